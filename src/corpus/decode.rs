//! Bytes → text. Scraped Chinese pages arrive as UTF-8 (with or without BOM), sometimes as
//! GB18030/GBK, rarely as UTF-16; anything else is reported, never guessed at.

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

/// Why a file's bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Binary,
    Undecodable,
}

/// Decodes a seed file's bytes. Returns the text and the encoding name when it was not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<(String, Option<&'static str>), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest).map(|s| (s, None));
    }
    for (bom, enc) in [(&b"\xFF\xFE"[..], UTF_16LE), (&b"\xFE\xFF"[..], UTF_16BE)] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = enc.decode_without_bom_handling(rest);
            return if had_errors || looks_binary(&text) {
                Err(DecodeError::Undecodable)
            } else {
                Ok((text.into_owned(), Some(enc.name())))
            };
        }
    }
    if bytes.contains(&0) {
        return Err(DecodeError::Binary);
    }
    if let Ok(text) = utf8(bytes) {
        return Ok((text, None));
    }
    match GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) if !looks_binary(&text) => Ok((text.into_owned(), Some("GB18030"))),
        Some(_) => Err(DecodeError::Binary),
        None => Err(DecodeError::Undecodable),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::Undecodable)?;
    if looks_binary(text) {
        return Err(DecodeError::Binary);
    }
    Ok(text.to_owned())
}

/// Text with many control characters is a binary file that happened to decode.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(65_536) {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}') {
            control += 1;
        }
    }
    control > 0 && control * 100 > total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("中文".as_bytes()).unwrap().0, "中文");
        assert_eq!(decode(b"\xEF\xBB\xBF\xE4\xB8\xAD").unwrap().0, "中");
    }

    #[test]
    fn gbk_is_decoded() {
        let (bytes, _, _) = GB18030.encode("新闻联播：人工智能");
        let (text, enc) = decode(&bytes).unwrap();
        assert_eq!(text, "新闻联播：人工智能");
        assert_eq!(enc, Some("GB18030"));
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "标题".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap().0, "标题");
    }

    #[test]
    fn binary_is_refused() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0IHDR"),
            Err(DecodeError::Binary)
        );
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761u32) >> 13) as u8 | 1)
            .collect();
        assert!(decode(&noise).is_err());
    }
}
