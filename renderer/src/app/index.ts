/**
 * The app's public surface, for the entry point (main.tsx): the window's frame — sidebar,
 * routes, dialogs — around the features.
 */
export { App, type AppProps } from './App.tsx';
