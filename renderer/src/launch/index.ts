/**
 * The launch feature's public surface: what other features may import from launch/ (the import
 * rules reject any other path into it). The "New session" dialog.
 */
export { LaunchDialog, type LaunchDialogProps } from './LaunchDialog.tsx';
