/**
 * The largest WebSocket message API Gateway carries in either direction (its "message payload size" quota). The
 * local gateway enforces the same figure, so a message that would be refused on AWS is refused locally too, and
 * fan-out shapes every push to fit under it.
 */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 128 * 1024;
