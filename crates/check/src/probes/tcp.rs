//! The connection HTTP_GET, SSL_GET and SMTP_CHECK start with (TCP_CHECK's own connects are
//! in [`super::connects`]).

use std::time::Duration;

use socket2::{Protocol, Socket, Type};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout_at, Instant};

use super::{io_failure, socket};
use crate::plan::Endpoint;
use crate::verdict::Failure;

/// A non-blocking TCP socket towards `ep`, bound as the checker asks. It lingers 0 s, so
/// closing it resets the connection instead of leaving it in TIME_WAIT: thousands of checks a
/// second would otherwise run out of ephemeral ports.
pub(crate) fn stream_socket(ep: &Endpoint) -> Result<Socket, Failure> {
    let socket = socket(ep, Type::STREAM, Protocol::TCP).map_err(io_failure)?;
    socket.set_linger(Some(Duration::ZERO)).map_err(io_failure)?;
    Ok(socket)
}

/// Connects to the endpoint before `deadline`.
pub(crate) async fn connect(ep: &Endpoint, deadline: Instant) -> Result<TcpStream, Failure> {
    let socket = TcpSocket::from_std_stream(stream_socket(ep)?.into());
    match timeout_at(deadline, socket.connect(ep.addr())).await {
        Err(_) => Err(Failure::ConnectTimeout),
        Ok(Err(e)) => Err(io_failure(e)),
        Ok(Ok(stream)) => Ok(stream),
    }
}
