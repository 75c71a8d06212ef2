/**
 * The front end of the kernel comm `rustmemodb-lab` (kernel side: rustmemodb_lab/sidebar.py).
 *
 * One `KernelLink` per kernel connection. It registers the comm target first, so the comm
 * `%load_ext rustmemodb_lab` opens reaches it, and opens a comm itself once, for a kernel
 * that loaded the extension before this page did (a kernel without the target closes it
 * again, and the link waits for `%load_ext`). Requests carry a number; the kernel's reply
 * echoes it. Snapshots pushed by the kernel (after cells and commits) are a signal.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject, PromiseDelegate } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

export const TARGET = 'rustmemodb-lab';

export interface IColumn {
  name: string;
  type: string;
  not_null: boolean;
  key: boolean;
}

export interface ISnapshot {
  connection: string | null;
  external?: string;
  branch: string | null;
  branches: Array<{ name: string; parent: string | null; depth: number; current: boolean; forked_at: string }>;
  tables: Array<{ name: string; rows: number | null; columns: IColumn[] }>;
  views: Array<{ name: string; sql: string }>;
  indexes: Array<{ name: string; table: string; columns: string[]; unique: boolean; primary: boolean }>;
}

export interface IReply {
  ok: boolean;
  error?: string;
  [key: string]: any;
}

const links = new WeakMap<Kernel.IKernelConnection, KernelLink>();

/** The link of `kernel`, created on first use. */
export function linkFor(kernel: Kernel.IKernelConnection): KernelLink {
  let link = links.get(kernel);
  if (!link) {
    link = new KernelLink(kernel);
    links.set(kernel, link);
  }
  return link;
}

export class KernelLink {
  constructor(readonly kernel: Kernel.IKernelConnection) {
    kernel.registerCommTarget(TARGET, (comm, msg) => {
      this._adopt(comm);
      this._received(msg.content.data as JSONObject);
      // tell the kernel a labextension is listening (it then sends native MIME types)
      comm.send({ type: 'hello', request: ++this._counter });
    });
    this._open();
  }

  /** The latest snapshot (null until the kernel has the extension loaded). */
  get snapshot(): ISnapshot | null {
    return this._snapshot;
  }

  get connected(): boolean {
    return this._comm !== null;
  }

  /** Emitted with every snapshot the kernel sends, and when the comm closes (null). */
  get changed(): ISignal<this, ISnapshot | null> {
    return this._changed;
  }

  /** Send `data` with a fresh request number; resolves with the kernel's reply. */
  request(data: JSONObject): Promise<IReply> {
    if (!this._comm) {
      return Promise.reject(new Error('the kernel has not loaded rustmemodb_lab (run %load_ext rustmemodb_lab)'));
    }
    const id = ++this._counter;
    const pending = new PromiseDelegate<IReply>();
    this._pending.set(id, pending);
    this._comm.send({ ...data, request: id });
    return pending.promise;
  }

  private _open(): void {
    if (this.kernel.isDisposed) {
      return;
    }
    try {
      const comm = this.kernel.createComm(TARGET);
      this._adopt(comm);
      const id = ++this._counter;
      const pending = new PromiseDelegate<IReply>();
      this._pending.set(id, pending);
      comm.open({ type: 'snapshot', request: id });
      pending.promise.then(reply => reply.snapshot && this._setSnapshot(reply.snapshot), () => undefined);
    } catch (err) {
      console.warn('rustmemodb-lab: cannot open the comm', err);
    }
  }

  private _adopt(comm: Kernel.IComm): void {
    this._comm = comm;
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => this._received(msg.content.data as JSONObject);
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
        for (const pending of this._pending.values()) {
          pending.reject(new Error('comm closed'));
        }
        this._pending.clear();
        this._changed.emit(null);
      }
    };
  }

  private _received(data: JSONObject): void {
    if (data.type === 'snapshot') {
      this._setSnapshot(data as unknown as ISnapshot);
    } else if (data.type === 'reply') {
      const pending = this._pending.get(data.request as number);
      if (pending) {
        this._pending.delete(data.request as number);
        pending.resolve(data as unknown as IReply);
      }
    }
  }

  private _setSnapshot(snapshot: ISnapshot): void {
    this._snapshot = snapshot;
    this._changed.emit(snapshot);
  }

  private _comm: Kernel.IComm | null = null;
  private _counter = 0;
  private _pending = new Map<number, PromiseDelegate<IReply>>();
  private _snapshot: ISnapshot | null = null;
  private _changed = new Signal<this, ISnapshot | null>(this);
}
