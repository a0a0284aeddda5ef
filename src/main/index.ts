// Electron main process: one window, locked down (STYLE §3), an engine host in a worker
// thread, and the IPC adapter that carries EngineApi calls from the preload to that host.
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { checkCallArgs } from '../shared/api-args.js';
import { createEngineProxy, dispatchCall, ENGINE_EVENTS, type CallResult } from '../shared/api.js';
import { EngineHost } from './engine/host/engine-host.js';
import { defaultStateDir } from './engine/host/engine-service.js';
import createHostWorker from './engine/host/host-worker?nodeWorker';
import { buildMenu } from './menu.js';
import { CONTENT_SECURITY_POLICY, isTrustedRendererUrl, rendererEntry, WEB_PREFERENCES } from './window-policy.js';

const preload = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererHtml = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
const devServer = process.env.ELECTRON_RENDERER_URL;

let mainWindow: BrowserWindow | null = null;
const host = new EngineHost(
  { stateDir: defaultStateDir(), host: 'electron', holder: `Embedsmith desktop (pid ${process.pid})`, nativeDialogs: true },
  createHostWorker,
);
const engine = createEngineProxy(host);

async function chooseFolder(args: unknown[]): Promise<CallResult> {
  const opts = (args[0] ?? {}) as { title?: string; mode?: string; defaultPath?: string };
  const props: Array<'openDirectory' | 'createDirectory' | 'promptToCreate'> = ['openDirectory'];
  if (opts.mode === 'create') props.push('createDirectory', 'promptToCreate');
  const result = mainWindow
    ? await dialog.showOpenDialog(mainWindow, { title: String(opts.title ?? 'Choose a folder'), defaultPath: opts.defaultPath, properties: props })
    : { canceled: true, filePaths: [] };
  return { ok: true, value: result.canceled ? null : (result.filePaths[0] ?? null) };
}

function senderIsTrusted(event: IpcMainInvokeEvent): boolean {
  // Only our own window's top frame may drive the engine.
  return (
    mainWindow !== null &&
    event.sender === mainWindow.webContents &&
    event.senderFrame !== null &&
    event.senderFrame === mainWindow.webContents.mainFrame &&
    isTrustedRendererUrl(event.senderFrame.url, { rendererHtml, devServer })
  );
}

ipcMain.handle('engine:call', async (event, method: unknown, args: unknown): Promise<CallResult> => {
  if (!senderIsTrusted(event)) return { ok: false, error: { code: 'BAD_INPUT', message: 'engine calls are accepted only from the Embedsmith window' } };
  if (method === 'chooseFolder') {
    // Answered here (dialogs live in the main process), so checked here as dispatchCall checks the rest.
    const bad = checkCallArgs('chooseFolder', args);
    return bad ? { ok: false, error: bad } : chooseFolder(args as unknown[]);
  }
  return dispatchCall(engine, method, args);
});

for (const name of ENGINE_EVENTS) {
  host.subscribe(name, (payload) => mainWindow?.webContents.send('engine:event', name, payload));
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'Embedsmith',
    show: false,
    webPreferences: { ...WEB_PREFERENCES, preload },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => (mainWindow = null));
  void mainWindow.loadURL(rendererEntry({ rendererHtml, devServer }));
}

app.on('web-contents-created', (_e, contents) => {
  // No navigation away from the app and no new windows, whatever the page does.
  contents.on('will-navigate', (e, url) => {
    if (!isTrustedRendererUrl(url, { rendererHtml, devServer })) e.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  void app.whenReady().then(() => {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
    buildMenu({ engine, getWindow: () => mainWindow, chooseFolder });
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let quitting = false;
app.on('before-quit', (e) => {
  // Release project locks before exiting, once.
  if (quitting) return;
  quitting = true;
  e.preventDefault();
  void host.dispose().finally(() => app.quit());
});
