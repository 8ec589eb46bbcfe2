"""The sizes and bounds the local gateway enforces, in one place, each with where it comes from.

Documented AWS quotas are cited; the bounds AWS does not document (how many messages of one
connection run at once, how much may wait for a slow reader) are this gateway's choices,
marked UNCONFIRMED: change them here only.
"""

from __future__ import annotations

QUOTAS_PAGE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "apigateway-execution-service-websocket-limits-table.html"
)
REST_QUOTAS_PAGE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "api-gateway-execution-service-limits-table.html"
)

FRAME_LIMIT_BYTES = 32 * 1024
"""WebSocket frame size, 32 KB, counted in payload bytes (QUOTAS_PAGE). A larger frame closes
the connection with 1009. For a compressed frame the limit applies both to the bytes on the
wire and to the decompressed payload (UNCONFIRMED which one AWS counts)."""

MESSAGE_LIMIT_BYTES = 128 * 1024
"""Message payload size, 128 KB, over all frames of a message (QUOTAS_PAGE, note **: larger
messages are split in frames of at most 32 KB; a larger message closes with 1009)."""

URL_LIMIT_CHARS = 4096
"""Length of the URL of a WebSocket API (QUOTAS_PAGE)."""

HEADER_LIMIT_BYTES = 10240
"""Total combined size of the request line and header values. AWS documents it for REST APIs
(REST_QUOTAS_PAGE); UNCONFIRMED that the WebSocket handshake has the same limit."""

MESSAGE_CONCURRENCY = 16
"""Messages of one connection handled at once. AWS handles the messages of a connection
concurrently but does not document a bound: UNCONFIRMED, this gateway's choice. Past it, the
next messages wait (pings are still answered at once)."""

MESSAGE_BACKLOG_CHARS = 16 * 1024 * 1024
"""Characters of received messages waiting for a free slot before the gateway stops reading the
socket (UNCONFIRMED, this gateway's choice). Large, because a paused socket also holds back the
client's pings; bounded, so a flooding client cannot grow the gateway's memory without limit."""

SEND_QUEUE_BYTES = 1024 * 1024
"""Bytes queued for one client that does not read. ``@connections`` POST never waits on a
client's socket; a connection whose queue would exceed this is disconnected (UNCONFIRMED: AWS
documents no such bound; see ``errors.CLOSE_SLOW_CONSUMER``)."""

CLOSE_TIMEOUT_S = 2.0
"""How long a server-initiated close waits for the client's close frame before dropping the
TCP connection (RFC 6455 section 7.1.1 leaves the duration to the server)."""
