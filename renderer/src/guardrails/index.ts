/**
 * The guardrails feature's public surface: what other features may import from guardrails/ (the
 * import rules reject any other path into it). Approval cards, the budget meter and its
 * "budget reached" bar, the policies in the Hands panel, the launch's budget and policies,
 * Settings → Guardrails, and when a session needs the user (waiting count, notifications).
 */
export { ApprovalCards, type ApprovalCardsProps } from './ApprovalCards.tsx';
export { BudgetMeter, BudgetReached } from './Budget.tsx';
export { PolicyPanel } from './PolicyPanel.tsx';
export { LaunchGuardrails } from './LaunchGuardrails.tsx';
export { GuardrailsSettings } from './GuardrailsSettings.tsx';
export { useGuardrails, type GuardrailsState } from './useGuardrails.ts';
export { isWaiting, waitingCount, windowTitle } from './approval-model.ts';
export { notify, transitionsOf } from './attention.ts';
export { parseBudgetDollars } from './budget-model.ts';
