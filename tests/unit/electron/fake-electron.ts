/**
 * Stand-ins for the Electron modules (the binary cannot be installed here). They record what the app
 * asks of Electron and let tests play Electron's part: emit events, navigate, invoke IPC handlers.
 * `utilityProcess.fork` starts a REAL Node child process (child_process.fork) behind the utilityProcess
 * API, so jobs launched through it really run.
 */
import { EventEmitter } from 'node:events';
import { fork, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type {
  BrowserWindowConstructorOptions,
  CustomScheme,
  ForkOptions,
  HandlerDetails,
  IpcMainInvokeEvent,
  WindowOpenHandlerResponse,
} from 'electron';
import type { ElectronModules } from '../../../electron/desktop-app';

export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebFrame {
  constructor(
    public url: string,
    readonly parent: FakeWebFrame | null = null,
  ) {}
  get top(): FakeWebFrame {
    return this.parent ? this.parent.top : this;
  }
  get origin(): string {
    return this.url ? `${new URL(this.url).protocol}//${new URL(this.url).host}` : '';
  }
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  readonly mainFrame = new FakeWebFrame('');
  readonly sent: { channel: string; message: unknown }[] = [];
  destroyed = false;
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;

  send(channel: string, message: unknown): void {
    this.sent.push({ channel, message });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getURL(): string {
    return this.mainFrame.url;
  }
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }
  /** Play a navigation event the way Electron emits it; returns the event to inspect defaultPrevented. */
  attempt(eventName: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', url: string): FakeEvent {
    const event = new FakeEvent(url);
    this.emit(eventName, event, url);
    return event;
  }
  attemptWebview(): FakeEvent {
    const event = new FakeEvent();
    this.emit('will-attach-webview', event, {}, { src: 'https://example.org' });
    return event;
  }
  /** An IPC invoke event from a frame of this web contents (the main frame unless given). */
  invokeEvent(frame: FakeWebFrame | null = this.mainFrame): IpcMainInvokeEvent {
    return {
      sender: this,
      senderFrame: frame,
      processId: 1,
      frameId: 1,
      preventDefault() {},
    } as unknown as IpcMainInvokeEvent;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.instances.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  loadedUrl: string | null = null;
  visible = false;
  minimized = false;
  destroyed = false;
  focusCount = 0;
  restoreCount = 0;

  constructor(readonly options: BrowserWindowConstructorOptions = {}) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    this.webContents.mainFrame.url = url;
    this.emit('ready-to-show');
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focusCount++;
  }
  restore(): void {
    this.minimized = false;
    this.restoreCount++;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

export class FakeApp extends EventEmitter {
  isPackaged = false;
  gotLock = true;
  sandboxEnabled = false;
  quitCount = 0;
  exitCode: number | null = null;
  readonly calls: string[] = [];
  private resolveReady!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.resolveReady = resolve));

  constructor(private readonly userData: string) {
    super();
  }
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return this.gotLock;
  }
  enableSandbox(): void {
    this.calls.push('enableSandbox');
    this.sandboxEnabled = true;
  }
  whenReady(): Promise<void> {
    return this.ready;
  }
  /** Electron's `ready`. */
  becomeReady(): void {
    this.calls.push('ready');
    this.resolveReady();
  }
  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
    return this.userData;
  }
  quit(): void {
    this.quitCount++;
    const event = new FakeEvent();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.calls.push('quit');
  }
  exit(code = 0): void {
    this.exitCode = code;
  }
}

export class FakeProtocol {
  privileged: CustomScheme[] = [];
  readonly handlers = new Map<string, (request: Request) => Response | Promise<Response>>();
  constructor(private readonly app?: FakeApp) {}
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
    this.app?.calls.push('registerSchemesAsPrivileged');
    this.privileged.push(...schemes);
  }
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    this.handlers.set(scheme, handler);
  }
  unhandle(scheme: string): void {
    this.handlers.delete(scheme);
  }
}

export class FakeIpcMain {
  readonly handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    return Promise.resolve(handler(event, ...args));
  }
}

type PermissionRequestHandler = (
  contents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details: unknown,
) => void;
type PermissionCheckHandler = (
  contents: unknown,
  permission: string,
  origin: string,
  details: unknown,
) => boolean;

export class FakeSession {
  permissionRequestHandler: PermissionRequestHandler | null = null;
  permissionCheckHandler: PermissionCheckHandler | null = null;
  devicePermissionHandler: ((details: unknown) => boolean) | null = null;
  readonly requestFilters: {
    urls: string[];
    listener: (details: { url: string }, callback: (r: { cancel?: boolean }) => void) => void;
  }[] = [];
  readonly webRequest = {
    onBeforeRequest: (
      filter: { urls: string[] },
      listener: (details: { url: string }, callback: (r: { cancel?: boolean }) => void) => void,
    ) => {
      this.requestFilters.push({ urls: filter.urls, listener });
    },
  };
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.permissionCheckHandler = handler;
  }
  setDevicePermissionHandler(handler: ((details: unknown) => boolean) | null): void {
    this.devicePermissionHandler = handler;
  }
}

/** The utilityProcess API over a real child_process.fork (the job entry speaks process.send there). */
export class ForkedUtilityProcess extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly child: ChildProcess;
  exitCode: number | null = null;

  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: ForkOptions,
  ) {
    super();
    this.child = fork(modulePath, args, {
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child.stdout!.pipe(this.stdout);
    this.child.stderr!.pipe(this.stderr);
    this.child.on('spawn', () => this.emit('spawn'));
    this.child.on('message', (message) => this.emit('message', message));
    // Electron reports an exit code only; a signal death shows up as a non-zero code.
    this.child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? 128 : 0);
      this.emit('exit', this.exitCode);
    });
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  postMessage(message: unknown): void {
    if (this.child.connected) this.child.send(message as object);
  }
  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

export class FakeUtilityProcessModule {
  readonly forks: ForkedUtilityProcess[] = [];
  fork(modulePath: string, args: string[] = [], options: ForkOptions = {}): ForkedUtilityProcess {
    const child = new ForkedUtilityProcess(modulePath, args, options);
    this.forks.push(child);
    return child;
  }
}

/** A renderer-side ipcRenderer whose invoke() is answered by the test. */
export class FakeIpcRenderer extends EventEmitter {
  readonly invocations: { channel: string; args: unknown[] }[] = [];
  answer: (channel: string, payload: unknown) => Promise<unknown> = async () => ({ ok: true, result: null });
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args });
    return this.answer(channel, args[0]);
  }
  /** A main → renderer message, with the IpcRendererEvent Electron passes first. */
  deliver(channel: string, message: unknown): void {
    this.emit(channel, { sender: this, senderId: 0 }, message);
  }
}

export interface FakeElectron {
  app: FakeApp;
  BrowserWindow: typeof FakeBrowserWindow;
  protocol: FakeProtocol;
  ipcMain: FakeIpcMain;
  session: { defaultSession: FakeSession };
  utilityProcess: FakeUtilityProcessModule;
  dialog: {
    errors: { title: string; content: string }[];
    showErrorBox(title: string, content: string): void;
  };
}

export function fakeElectron(userData: string): FakeElectron {
  FakeBrowserWindow.instances = [];
  const app = new FakeApp(userData);
  const errors: { title: string; content: string }[] = [];
  return {
    app,
    BrowserWindow: FakeBrowserWindow,
    protocol: new FakeProtocol(app),
    ipcMain: new FakeIpcMain(),
    session: { defaultSession: new FakeSession() },
    utilityProcess: new FakeUtilityProcessModule(),
    dialog: { errors, showErrorBox: (title, content) => errors.push({ title, content }) },
  };
}

/** The fakes typed as the Electron modules the app expects. */
export function asElectron(fake: FakeElectron): ElectronModules {
  return fake as unknown as ElectronModules;
}
