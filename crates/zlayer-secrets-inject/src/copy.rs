//! Piping a program's output through the masking filter.

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use zeroize::Zeroizing;

use crate::Masker;

/// Copies `from` to `to` through a [`MaskStream`](crate::MaskStream) of `masker`, until
/// `from` ends, flushing after every write so that interactive output is not held up.
/// What the filter holds back at the end is released (masked) before returning.
pub async fn copy_masked<R, W>(mut from: R, mut to: W, masker: &Masker) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut stream = masker.stream();
    let mut buf = Zeroizing::new(vec![0u8; 8192]);
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        let n = from.read(&mut buf[..]).await?;
        if n == 0 {
            break;
        }
        out.clear();
        stream.push(&buf[..n], &mut out);
        if !out.is_empty() {
            to.write_all(&out).await?;
            to.flush().await?;
        }
    }
    out.clear();
    stream.finish(&mut out);
    to.write_all(&out).await?;
    to.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_split_across_reads_is_masked() {
        let masker = Masker::new(["hunter22"]);
        let (mut writer, reader) = tokio::io::duplex(4);
        let feed = async move {
            for part in ["pass: hun", "ter", "22\nend"] {
                writer.write_all(part.as_bytes()).await.unwrap();
            }
        };
        let mut out = Vec::new();
        let (copied, ()) = tokio::join!(copy_masked(reader, &mut out, &masker), feed);
        copied.unwrap();
        assert_eq!(out, b"pass: <concealed>\nend");
    }
}
