//! AWS event-stream framing (`application/vnd.amazon.eventstream`), the
//! binary envelope Kinesis SubscribeToShard streams its events in.
//!
//! A message is, all big-endian: total_length u32 | headers_length u32 |
//! prelude_crc u32 | headers | payload | message_crc u32, both CRCs being
//! IEEE CRC32 (prelude_crc over the first 8 bytes, message_crc over all before it).

#[derive(Debug, Clone, PartialEq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    String(String),
    /// Epoch milliseconds.
    Timestamp(i64),
    Uuid([u8; 16]),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("prelude CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}")]
    PreludeCrc { expected: u32, actual: u32 },
    #[error("message CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}")]
    MessageCrc { expected: u32, actual: u32 },
    #[error("inconsistent lengths: total {total}, headers {headers}")]
    Lengths { total: u32, headers: u32 },
    #[error("a header runs past the end of the header section")]
    Truncated,
    #[error("unknown header value type {0}")]
    HeaderType(u8),
    #[error("a header name or string value is not UTF-8")]
    Utf8,
}

/// total_length, headers_length, prelude_crc.
const PRELUDE: usize = 12;
/// The prelude plus the trailing message CRC: a message with no headers or payload.
const OVERHEAD: usize = PRELUDE + 4;
/// AWS's own limit (aws-c-event-stream): a larger claimed length is garbage, and
/// refusing it early keeps a streaming reader from buffering gigabytes.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(OVERHEAD + 64 * message.headers.len() + message.payload.len());
    out.resize(PRELUDE, 0); // patched once the header length is known
    for (name, value) in &message.headers {
        write_header(&mut out, name, value);
    }
    let headers_len = out.len() - PRELUDE;
    out.extend_from_slice(&message.payload);
    let total = out.len() + 4;
    out[0..4].copy_from_slice(&(total as u32).to_be_bytes());
    out[4..8].copy_from_slice(&(headers_len as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out[0..8]);
    out[8..12].copy_from_slice(&prelude_crc.to_be_bytes());
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// The frames Kinesis sends: `:event-type`, `:content-type`, `:message-type` = "event".
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Vec<u8> {
    framed(":event-type", event_type, content_type, "event", payload)
}

/// An exception frame: `:exception-type`, `:content-type`, `:message-type` = "exception".
pub fn exception(error_type: &str, content_type: &str, payload: &[u8]) -> Vec<u8> {
    framed(":exception-type", error_type, content_type, "exception", payload)
}

fn framed(type_header: &str, type_value: &str, content_type: &str, message_type: &str, payload: &[u8]) -> Vec<u8> {
    let string = |s: &str| HeaderValue::String(s.to_owned());
    encode(&Message {
        headers: vec![
            (type_header.to_owned(), string(type_value)),
            (":content-type".to_owned(), string(content_type)),
            (":message-type".to_owned(), string(message_type)),
        ],
        payload: payload.to_vec(),
    })
}

/// Header names and values are protocol constants or short identifiers in this
/// codebase, so outgrowing the u8/u16 length fields is a bug, not input.
fn write_header(out: &mut Vec<u8>, name: &str, value: &HeaderValue) {
    let name_len = u8::try_from(name.len()).expect("event-stream header name over 255 bytes");
    out.push(name_len);
    out.extend_from_slice(name.as_bytes());
    let short_bytes = |out: &mut Vec<u8>, bytes: &[u8]| {
        let len = u16::try_from(bytes.len()).expect("event-stream header value over 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    };
    match value {
        HeaderValue::Bool(true) => out.push(0),
        HeaderValue::Bool(false) => out.push(1),
        HeaderValue::Byte(v) => out.extend_from_slice(&[2, *v as u8]),
        HeaderValue::Short(v) => {
            out.push(3);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Int(v) => {
            out.push(4);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Long(v) => {
            out.push(5);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Bytes(v) => {
            out.push(6);
            short_bytes(out, v);
        }
        HeaderValue::String(v) => {
            out.push(7);
            short_bytes(out, v.as_bytes());
        }
        HeaderValue::Timestamp(v) => {
            out.push(8);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Uuid(v) => {
            out.push(9);
            out.extend_from_slice(v);
        }
    }
}

/// Decodes one message from the front of `buf`: `Ok(Some((message, bytes_consumed)))`,
/// or `Ok(None)` while `buf` holds less than one whole message. The prelude is
/// checked as soon as it has arrived, so garbage fails fast instead of waiting.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, FrameError> {
    let Some(prelude) = buf.get(..PRELUDE) else { return Ok(None) };
    let total = be_u32(&prelude[0..4]);
    let headers = be_u32(&prelude[4..8]);
    check_crc(be_u32(&prelude[8..12]), &prelude[0..8], |expected, actual| FrameError::PreludeCrc { expected, actual })?;
    let (total_len, headers_len) = (total as usize, headers as usize);
    if !(OVERHEAD..=MAX_MESSAGE).contains(&total_len) || headers_len > total_len - OVERHEAD {
        return Err(FrameError::Lengths { total, headers });
    }
    let Some(frame) = buf.get(..total_len) else { return Ok(None) };
    let (body, crc) = frame.split_at(total_len - 4);
    check_crc(be_u32(crc), body, |expected, actual| FrameError::MessageCrc { expected, actual })?;
    let (header_bytes, payload) = body[PRELUDE..].split_at(headers_len);
    let message = Message { headers: parse_headers(header_bytes)?, payload: payload.to_vec() };
    Ok(Some((message, total_len)))
}

fn check_crc(expected: u32, bytes: &[u8], error: fn(u32, u32) -> FrameError) -> Result<(), FrameError> {
    let actual = crc32fast::hash(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(error(expected, actual))
    }
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().expect("callers slice exactly 4 bytes"))
}

fn parse_headers(mut rest: &[u8]) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    /// Splits `n` bytes off the front; every read goes through here, so a
    /// length field pointing past the section is an error, never a panic.
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
        if rest.len() < n {
            return Err(FrameError::Truncated);
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(rest: &mut &[u8]) -> Result<[u8; N], FrameError> {
        Ok(take(rest, N)?.try_into().expect("take returned N bytes"))
    }
    fn short_bytes<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], FrameError> {
        let len = u16::from_be_bytes(array(rest)?) as usize;
        take(rest, len)
    }
    let utf8 = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| FrameError::Utf8);

    let mut headers = Vec::new();
    while !rest.is_empty() {
        let [name_len] = array(&mut rest)?;
        let name = utf8(take(&mut rest, name_len as usize)?)?;
        let [value_type] = array(&mut rest)?;
        let value = match value_type {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(array(&mut rest)?)),
            3 => HeaderValue::Short(i16::from_be_bytes(array(&mut rest)?)),
            4 => HeaderValue::Int(i32::from_be_bytes(array(&mut rest)?)),
            5 => HeaderValue::Long(i64::from_be_bytes(array(&mut rest)?)),
            6 => HeaderValue::Bytes(short_bytes(&mut rest)?.to_vec()),
            7 => HeaderValue::String(utf8(short_bytes(&mut rest)?)?),
            8 => HeaderValue::Timestamp(i64::from_be_bytes(array(&mut rest)?)),
            9 => HeaderValue::Uuid(array(&mut rest)?),
            other => return Err(FrameError::HeaderType(other)),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers from aws-c-event-stream's test suite: an empty message, a
    /// payload-only message, and one `content-type` string header with a payload.
    const EMPTY: [u8; 16] = [0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff];
    const PAYLOAD: &[u8] = b"{'foo':'bar'}";

    fn payload_only() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x1d, 0, 0, 0, 0, 0xfd, 0x52, 0x8c, 0x5a];
        v.extend_from_slice(PAYLOAD);
        v.extend_from_slice(&[0xc3, 0x65, 0x39, 0x36]);
        v
    }

    fn with_header() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x3d, 0, 0, 0, 0x20, 0x07, 0xfd, 0x83, 0x96, 0x0c];
        v.extend_from_slice(b"content-type");
        v.extend_from_slice(&[7, 0, 0x10]);
        v.extend_from_slice(b"application/json");
        v.extend_from_slice(PAYLOAD);
        v.extend_from_slice(&[0x8d, 0x9c, 0x08, 0xb1]);
        v
    }

    fn msg(headers: Vec<(&str, HeaderValue)>, payload: &[u8]) -> Message {
        Message { headers: headers.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(), payload: payload.to_vec() }
    }

    #[test]
    fn known_answers_encode_and_decode() {
        let cases = [
            (msg(vec![], b""), EMPTY.to_vec()),
            (msg(vec![], PAYLOAD), payload_only()),
            (msg(vec![("content-type", HeaderValue::String("application/json".into()))], PAYLOAD), with_header()),
        ];
        let mut stream = Vec::new();
        for (message, bytes) in &cases {
            assert_eq!(&encode(message), bytes);
            // The prelude CRC cross-checked independently of encode().
            assert_eq!(crc32fast::hash(&bytes[..8]).to_be_bytes(), bytes[8..12]);
            stream.extend_from_slice(bytes);
        }
        // Back to back, as on the wire.
        let mut at = 0;
        for (message, bytes) in &cases {
            let (decoded, used) = decode(&stream[at..]).unwrap().unwrap();
            assert_eq!((&decoded, used), (message, bytes.len()));
            at += used;
        }
        assert_eq!(at, stream.len());
    }

    #[test]
    fn every_header_type_round_trips() {
        let message = msg(
            vec![
                ("t", HeaderValue::Bool(true)),
                ("f", HeaderValue::Bool(false)),
                ("byte", HeaderValue::Byte(-7)),
                ("short", HeaderValue::Short(-30_000)),
                ("int", HeaderValue::Int(i32::MIN)),
                ("long", HeaderValue::Long(i64::MAX)),
                ("bytes", HeaderValue::Bytes(vec![0, 1, 255])),
                ("string", HeaderValue::String("héllo".into())),
                ("ts", HeaderValue::Timestamp(1_700_000_000_123)),
                ("uuid", HeaderValue::Uuid(*b"0123456789abcdef")),
                ("empty", HeaderValue::Bytes(vec![])),
            ],
            b"payload",
        );
        let bytes = encode(&message);
        assert_eq!(decode(&bytes).unwrap(), Some((message, bytes.len())));
    }

    #[test]
    fn event_and_exception_frames() {
        let bytes = event("SubscribeToShardEvent", "application/x-amz-cbor-1.1", b"\xa0");
        let (m, _) = decode(&bytes).unwrap().unwrap();
        let s = |v: &str| HeaderValue::String(v.into());
        assert_eq!(
            m.headers,
            vec![
                (":event-type".into(), s("SubscribeToShardEvent")),
                (":content-type".into(), s("application/x-amz-cbor-1.1")),
                (":message-type".into(), s("event")),
            ]
        );
        assert_eq!(m.payload, b"\xa0");
        let (m, _) = decode(&exception("ResourceNotFoundException", "application/json", b"{}")).unwrap().unwrap();
        assert_eq!(m.headers[0], (":exception-type".into(), s("ResourceNotFoundException")));
        assert_eq!(m.headers[2], (":message-type".into(), s("exception")));
    }

    #[test]
    fn truncated_buffers_wait_for_more() {
        let bytes = with_header();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).unwrap().is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn corruption_is_rejected() {
        let mut bad_prelude = with_header();
        bad_prelude[9] ^= 1;
        assert!(matches!(decode(&bad_prelude), Err(FrameError::PreludeCrc { .. })));
        // Caught from the prelude alone, before the rest has arrived.
        assert!(matches!(decode(&bad_prelude[..12]), Err(FrameError::PreludeCrc { .. })));

        let mut bad_payload = with_header();
        bad_payload[50] ^= 1;
        assert!(matches!(decode(&bad_payload), Err(FrameError::MessageCrc { .. })));
        let mut bad_crc = with_header();
        *bad_crc.last_mut().unwrap() ^= 1;
        assert!(matches!(decode(&bad_crc), Err(FrameError::MessageCrc { .. })));
    }

    /// A frame with valid CRCs around arbitrary header bytes, to reach the header parser.
    fn frame_around(headers: &[u8], payload: &[u8]) -> Vec<u8> {
        let total = (OVERHEAD + headers.len() + payload.len()) as u32;
        let mut v = total.to_be_bytes().to_vec();
        v.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        v.extend_from_slice(&crc32fast::hash(&v).to_be_bytes());
        v.extend_from_slice(headers);
        v.extend_from_slice(payload);
        v.extend_from_slice(&crc32fast::hash(&v).to_be_bytes());
        v
    }

    #[test]
    fn bad_headers_and_lengths_are_rejected() {
        assert!(matches!(decode(&frame_around(b"\x01a\x0a", b"")), Err(FrameError::HeaderType(10))));
        assert!(matches!(decode(&frame_around(b"\x01a\x07\x00\x05ab", b"")), Err(FrameError::Truncated)));
        assert!(matches!(decode(&frame_around(b"\x05ab", b"")), Err(FrameError::Truncated)));
        assert!(matches!(decode(&frame_around(b"\x01\xff\x00", b"")), Err(FrameError::Utf8)));
        // headers_length larger than the frame leaves room for.
        let mut prelude = [0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0];
        let crc = crc32fast::hash(&prelude[..8]).to_be_bytes();
        prelude[8..].copy_from_slice(&crc);
        assert!(matches!(decode(&prelude), Err(FrameError::Lengths { .. })));
        // total_length below the 16-byte minimum, and above the 16 MiB cap.
        for total in [0u32, 15, 16 * 1024 * 1024 + 1] {
            let mut prelude = total.to_be_bytes().to_vec();
            prelude.extend_from_slice(&[0; 4]);
            prelude.extend_from_slice(&crc32fast::hash(&prelude).to_be_bytes());
            assert!(matches!(decode(&prelude), Err(FrameError::Lengths { .. })), "total {total}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        for len in 0..3000usize {
            let bytes: Vec<u8> = (0..len % 80).map(|_| next()).collect();
            let _ = decode(&bytes);
            // Random header sections behind valid CRCs exercise the header parser.
            let _ = decode(&frame_around(&bytes, b"p"));
            // Every truncation of a valid frame with random header cut points too.
            let framed = frame_around(&bytes, b"");
            let _ = decode(&framed[..framed.len() * (len % 7) / 7]);
        }
    }
}
