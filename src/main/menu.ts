// The application menu. Project commands go through the engine like any other client; the
// renderer hears about them through onProjectChanged, so no extra IPC channel is needed.
import { app, dialog, Menu, shell, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { CallResult, EngineApi } from '../shared/api.js';

export interface MenuDeps {
  engine: EngineApi;
  getWindow: () => BrowserWindow | null;
  chooseFolder: (args: unknown[]) => Promise<CallResult>;
}

export function buildMenu(deps: MenuDeps): void {
  const report = (err: unknown) => {
    const win = deps.getWindow();
    const message = err instanceof Error ? err.message : String(err);
    if (win) void dialog.showMessageBox(win, { type: 'error', message: 'Embedsmith', detail: message });
  };
  const openProject = async () => {
    const r = await deps.chooseFolder([{ title: 'Open an Embedsmith project', mode: 'open' }]);
    if (r.ok && typeof r.value === 'string') await deps.engine.openProject(r.value).catch(report);
  };
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => void openProject() },
        { label: 'Close Project', accelerator: 'CmdOrCtrl+Shift+W', click: () => void deps.engine.closeProject().catch(report) },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'About Embedsmith',
          click: () => {
            const win = deps.getWindow();
            if (win) void dialog.showMessageBox(win, { message: `Embedsmith ${app.getVersion()}`, detail: 'Fine-tune text-embedding models on your own data.' });
          },
        },
        { label: 'Open State Folder', click: () => void shell.openPath(app.getPath('userData')) },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
