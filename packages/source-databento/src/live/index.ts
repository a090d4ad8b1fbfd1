/** Databento Live: the gateway client, the live chain, and the protocol pieces they are made of. */
export { LiveClient, type LiveClientEvents, type LiveClientOptions, type LiveClientStats, type ReconnectPolicy } from "./client.js";
export { LiveChain, filtersOf, type LiveChainOptions, type LiveChainStats } from "./chain.js";
export { cramResponse, gatewayHost, subscriptionLines, MAX_SYMBOLS_PER_LINE, DEFAULT_LIVE_PORT, type Subscription, type LiveCompression, type SType as LiveSType } from "./protocol.js";
export { gatewayError, GATEWAY_ERROR_CODES } from "./errors.js";
