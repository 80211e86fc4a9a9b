// The y-websocket message types, and Continuum's one addition: the durability ack
// `[varUint 100][varUint n]` ("the first n content messages you sent are durable").

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_AUTH = 2;
export const MESSAGE_QUERY_AWARENESS = 3;
export const MESSAGE_ACK = 100;

/** Close codes the server uses (see docs/design.md, "Sockets end with a reason"). */
export const CLOSE_SIGNED_OUT = 4401;
export const CLOSE_TOO_LARGE = 1009;
export const CLOSE_MALFORMED = 1008;
