// The y-websocket message types, and Continuum's additions: the durability acks
// `[varUint 100][varUint n]` ("the first n content messages you sent are durable in the cloud")
// and `[varUint 101][varUint n]` (an edge: "… are in the edge's durable queue").

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_AUTH = 2;
export const MESSAGE_QUERY_AWARENESS = 3;
export const MESSAGE_ACK = 100;
export const MESSAGE_ACK_EDGE = 101;

/** Close codes the server uses (see docs/design.md, "Sockets end with a reason"). */
export const CLOSE_SIGNED_OUT = 4401;
export const CLOSE_TOO_LARGE = 1009;
export const CLOSE_MALFORMED = 1008;
