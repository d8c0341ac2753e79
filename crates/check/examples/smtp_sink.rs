//! An SMTP sink for the test harnesses: accepts every mail and appends it to a file, as
//! `From`/`To` envelope lines, the message, and a line `.` after each, so that a shell test
//! can grep the alert mails vigild or keepalived sent.  Prints `ready` once listening.
//!
//! Usage: smtp_sink ADDRESS:PORT FILE

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: smtp_sink ADDRESS:PORT FILE");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(addr)?;
    println!("ready");
    for stream in listener.incoming().flatten() {
        let file = PathBuf::from(file);
        std::thread::spawn(move || {
            if let Err(e) = session(stream, &file) {
                eprintln!("smtp_sink: {e}");
            }
        });
    }
    Ok(())
}

/// One SMTP session: every command is accepted; each message goes to `file` when its final
/// dot arrives.
fn session(stream: TcpStream, file: &Path) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut envelope = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("MAIL FROM:") || cmd.starts_with("RCPT TO:") {
            envelope.push_str(line.trim_end());
            envelope.push('\n');
            b"250 ok\r\n"
        } else if cmd == "DATA" {
            out.write_all(b"354 go ahead\r\n")?;
            let mut message = std::mem::take(&mut envelope);
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                message.push_str(line.trim_end_matches(['\r', '\n']));
                message.push('\n');
            }
            message.push_str(".\n");
            OpenOptions::new().create(true).append(true).open(file)?.write_all(message.as_bytes())?;
            b"250 queued\r\n"
        } else if cmd == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        out.write_all(reply)?;
    }
}
