'use strict'
// The legacy port (legacy/legacy.js) for side-by-side tests, with Node's scrypt memoized so that
// thousands of random cases run in seconds; the legacy behaviour under test (formats, hex and
// UTF-8 quirks, error paths) is unchanged. See legacy/memoize-scrypt.js.
require('../legacy/memoize-scrypt').install()
module.exports = require('../legacy/legacy.js')
