//! The per-field rules of the legacy credential maps (UserExchangeAccountService). The values are
//! JavaScript values, so the binding layer walks the object; these are the decisions it applies.

use crate::codec::is_blank_js;

/// Fields the legacy encoder stored as they were, whatever their value.
pub fn is_plain_field(key: &str) -> bool {
    key == "isTestnet" || key == "testnet"
}

/// What the encoder does with a string value of a non-plain field.
#[derive(Debug, PartialEq, Eq)]
pub enum EncodeAction {
    /// `value && value.trim() !== ''` was false: the field is left out of the result.
    Omit,
    /// Encrypted with the CBC string format.
    Encrypt,
}

pub fn encode_action_for_string(value: &str) -> EncodeAction {
    if is_blank_js(value) {
        EncodeAction::Omit
    } else {
        EncodeAction::Encrypt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(is_plain_field("isTestnet") && is_plain_field("testnet") && !is_plain_field("IsTestnet"));
        assert_eq!(encode_action_for_string("   "), EncodeAction::Omit);
        assert_eq!(encode_action_for_string(""), EncodeAction::Omit);
        assert_eq!(encode_action_for_string(" x"), EncodeAction::Encrypt);
    }
}
