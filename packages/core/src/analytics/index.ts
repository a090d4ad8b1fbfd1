export { normalCdf, normalPdf } from "./normal.js";
export {
  black76,
  black76Price,
  DAYS_PER_YEAR,
  IMPLIED_VOLATILITY_PRICE_TOLERANCE,
  impliedVolatility,
  type Black76Inputs,
  type Black76Result,
  type ImpliedVolatilityFailure,
  type ImpliedVolatilityInputs,
  type ImpliedVolatilityResult,
  type OptionKind,
} from "./black76.js";
export {
  analyticsPrice,
  applyAnalytics,
  contractAnalytics,
  DEFAULT_ANALYTICS_RATE,
  type AnalyticsOptions,
  type AnalyticsUnavailableReason,
  type ContractAnalytics,
  type ContractAnalyticsInput,
} from "./chain.js";
