/**
 * The settings feature's public surface: what other features may import from settings/ (the
 * import rules reject any other path into it). Settings → Credentials, Guardrails, Local API.
 */
export { SettingsView } from './SettingsView.tsx';
export { SETTINGS_SECTIONS, revealSettingsSection } from './sections.ts';
