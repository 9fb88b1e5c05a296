// Type declarations of @notifyd/client (notifyd.js).

/** Close codes of the gateway. */
export declare const CloseCodes: Readonly<{
  GOING_AWAY: 1001;
  UNSUPPORTED_DATA: 1003;
  TOO_BIG: 1009;
  SERVICE_RESTART: 1012;
  TRY_AGAIN_LATER: 1013;
  SLOW_CONSUMER: 4000;
  UNAUTHORIZED: 4001;
  REVOKED: 4003;
}>;

export type State = 'connecting' | 'open' | 'closed';
export declare const States: Readonly<{ CONNECTING: 'connecting'; OPEN: 'open'; CLOSED: 'closed' }>;

/** Error codes of refused commands and REST calls. */
export type ErrorCode =
  | 'forbidden' | 'not_found' | 'invalid' | 'rate_limited' | 'unavailable' // the server's
  | 'timeout' | 'disconnected' | 'closed' | 'unauthorized' | 'revoked' | 'unsupported'; // the client's

export declare class NotifydError extends Error {
  constructor(code: ErrorCode | string, message?: string, extra?: { status?: number; field?: string; rid?: string });
  readonly name: 'NotifydError';
  readonly code: ErrorCode | string;
  /** HTTP status, for REST calls. */
  readonly status?: number;
  /** The request field the server refused, when it says. */
  readonly field?: string;
  /** The command's rid. */
  readonly rid?: string;
}

/** localStorage, or anything with the same two methods. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface ClientOptions {
  /** notifyd's base URL (https://notify.example.com) or its websocket URL (wss://…/ws/chat). */
  url: string;
  /** A fixed token. Without getToken, a refused token stops the client (disconnected, 4001). */
  token?: string;
  /** Called for the first token and again (refresh: true) when the gateway refuses or expires one. */
  getToken?: (opts: { refresh: boolean }) => Promise<string> | string;
  /** The site (?host=). Default: location.origin in browsers. Browsers' Origin header wins on the server. */
  host?: string;
  /** A device id (?device=): the server keeps a delivery cursor per user and device; the client acks. */
  device?: string;
  /** Where the last received id is kept, per server, site and user. Default: localStorage when available. */
  storage?: StorageLike | null;
  /** A WebSocket constructor (default: globalThis.WebSocket). */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocket;
  /** A fetch function (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** 'protocol' (default): the token travels as the subprotocol pair ["accessToken", token], PyAMS's way, out of URLs and logs; 'query': ?token=. */
  tokenTransport?: 'protocol' | 'query';
  /** Reconnect delays in ms: full jitter up to min·2^attempt, capped at max. Default {min: 250, max: 10000}. */
  backoff?: { min?: number; max?: number };
  /** PING every this many ms (default 25000). */
  pingInterval?: number;
  /** No frame this long after a PING: the connection is dropped and reopened (default 10000). */
  pongTimeout?: number;
  /** A socket not established by then is dropped (default 15000). */
  connectTimeout?: number;
  /** A command not answered by then rejects with code 'timeout' (default 10000). */
  commandTimeout?: number;
  /** How many recent message ids are remembered to drop duplicates (default 1000). */
  dedupe?: number;
  /** Messages read per subscribed space to catch up after a reconnect (default 50). */
  catchUpLimit?: number;
  /** With a device, acks are coalesced over this many ms (default 1000). */
  ackDelay?: number;
  /**
   * 'auto' (default): a websocket; after fallbackAfter websockets in a row end before any frame, server-sent
   * events (GET /sse/chat), trying the websocket again every retryWebSocketEvery-th connection. 'websocket' or
   * 'sse': that one only. A stream receives everything a websocket does but cannot send: send() goes through
   * REST, the other space commands reject with code 'unsupported'.
   */
  transport?: 'auto' | 'websocket' | 'sse';
  /** 'auto': websocket failures in a row before SSE (default 2). */
  fallbackAfter?: number;
  /** 'auto', on SSE: every this many connections try the websocket again (default 5). */
  retryWebSocketEvery?: number;
  /** A stream silent this long (ms; the server sends a heartbeat every 30 s) is dropped and reopened (default 60000). */
  sseHeartbeatTimeout?: number;
  /** Random source of the jitter, [0, 1) (default Math.random). */
  random?: () => number;
}

/** A PyAMS ChatMessage as pushed (no target). Render its text with textContent. */
export interface Notification {
  action: 'notify';
  id: string;
  host: string;
  channel: string;
  category: string;
  status: string;
  title: string;
  message: string;
  image: string | null;
  source: { id: string; title?: string; avatar?: string | null };
  url: string | null;
  modal: boolean;
  timestamp: string;
  [extra: string]: unknown;
}

export interface InboxCounts { unread: number; unseen: number }

export interface Attachment { id?: string; name: string; size?: number; type?: string; mime?: string; url: string; thumbnail?: string }
export interface Task { assignee?: string; due?: string; status: 'open' | 'done' }
export type Kind = 'chat' | 'post' | 'task';

export interface SendOptions { kind?: Kind; body?: string; title?: string; thread?: string; attachments?: Attachment[]; task?: Task }

export interface ReactionCount { emoji: string; count: number; principals?: string[] }

/** A space message (the message event, and history entries). Bodies are plain text. */
export interface SpaceMessage {
  action?: 'message' | 'update';
  space: string;
  id: string;
  kind: Kind;
  body?: string;
  title?: string;
  thread?: string;
  attachments?: Attachment[];
  task?: Task;
  sender: { id: string; title: string };
  timestamp: string;
  reactions?: ReactionCount[];
}

export interface TypingEvent { action: 'typing'; space: string; principal: string }
export interface ReactionEvent { action: 'reaction'; space: string; message: string; emoji: string; principal: string; remove?: boolean; count: number }
export interface ActivityEvent { action: 'activity'; space: string; id: string; sender: string; timestamp: string }
export interface MemberEvent { action: 'member'; space: string; principal: string; joined: boolean; deleted?: boolean }
export interface RetractEvent { action: 'retract'; id: string; space?: string }
export interface StateEvent { state: State; code?: number; reason?: string; attempt?: number; retryIn?: number; transport?: 'websocket' | 'sse' }

export interface Events {
  notification: Notification;
  inbox: InboxCounts;
  /** A changed message (notification or space message): its new form. */
  update: Record<string, unknown> & { action: 'update'; id: string };
  retract: RetractEvent;
  /** The since cursor was no longer kept: reload the list over REST (with space: reload that space's messages). */
  gap: { since: string; space?: string };
  state: StateEvent;
  error: Error;
  /** The client stopped for good: 4003 (an administrator), or 4001 without getToken. */
  disconnected: { code: number; reason: string };
  message: SpaceMessage;
  typing: TypingEvent;
  reaction: ReactionEvent;
  activity: ActivityEvent;
  member: MemberEvent;
  /** Every JSON frame, before it is dispatched (duplicates included). */
  frame: Record<string, unknown> & { action?: string };
}

/** The ok answer of a command. */
export interface CommandOK { action: 'ok'; rid: string; id?: string; timestamp?: string; count?: number }

export interface Space { id: string; title: string; kind: 'group' | 'direct'; members?: Member[]; members_count?: number; unread?: number; last_message?: SpaceMessage; [k: string]: unknown }
export interface Member { principal: string; moderator: boolean; [k: string]: unknown }

export interface InboxPage {
  notifications: Array<Notification & { read: boolean }>;
  unread: number;
  unseen: number;
  next: string | null;
  gap: boolean;
}

export declare class NotifydClient {
  constructor(options: ClientOptions);
  readonly baseURL: string;
  readonly wsURL: string;
  readonly sseURL: string;
  readonly host: string | undefined;
  readonly device: string | undefined;
  readonly state: State;
  /** The id of the last message received (the next ?since=). */
  readonly lastId: string;
  /** The transport of the current (or next) connection. */
  readonly transport: 'websocket' | 'sse';

  on<E extends keyof Events>(event: E, cb: (detail: Events[E]) => void): () => void;
  off<E extends keyof Events>(event: E, cb: (detail: Events[E]) => void): void;
  once<E extends keyof Events>(event: E, cb: (detail: Events[E]) => void): () => void;

  /** Starts the connection loop; resolves when first established. */
  connect(): Promise<void>;
  /** Closes and stops reconnecting. */
  close(): void;

  subscribe(space: string): Promise<CommandOK>;
  unsubscribe(space: string): Promise<CommandOK | { action: 'ok' }>;
  send(space: string, message: string | SendOptions): Promise<CommandOK & { id: string; timestamp: string }>;
  typing(space: string): Promise<CommandOK>;
  react(messageId: string, emoji: string, opts?: { remove?: boolean }): Promise<CommandOK & { count: number }>;
  edit(messageId: string, body: string): Promise<CommandOK>;
  delete(messageId: string): Promise<CommandOK>;
  deleteMessage(messageId: string): Promise<CommandOK>;
  read(space: string, until: string): Promise<CommandOK>;

  request<T = unknown>(method: string, path: string, opts?: { query?: Record<string, string | number | boolean | undefined>; body?: unknown }): Promise<T>;
  inbox(opts?: { limit?: number; before?: string; after?: string; unread?: boolean; category?: string }): Promise<InboxPage>;
  count(): Promise<InboxCounts>;
  markRead(ids: string | string[] | 'all'): Promise<InboxCounts>;
  markUnread(ids: string | string[]): Promise<InboxCounts>;
  markSeen(until: string): Promise<InboxCounts>;
  preferences(): Promise<{ muted: string[] }>;
  setPreferences(prefs: { muted: string[] }): Promise<{ muted: string[] }>;
  notifications(opts?: { since?: string; limit?: number }): Promise<{ timestamp: string; notifications: Notification[]; gap: boolean; more: boolean }>;

  spaces(): Promise<Space[]>;
  space(id: string): Promise<Space>;
  createSpace(opts: { title: string; members?: string[]; kind?: 'group' }): Promise<Space>;
  renameSpace(id: string, title: string): Promise<Space>;
  deleteSpace(id: string): Promise<null>;
  direct(principal: string): Promise<Space>;
  messages(space: string, opts?: { before?: string; limit?: number; thread?: string }): Promise<{ messages: SpaceMessage[]; next: string | null }>;
  members(space: string): Promise<Member[]>;
  addMember(space: string, principal: string, opts?: { moderator?: boolean }): Promise<Member>;
  removeMember(space: string, principal: string): Promise<null>;
}

export default NotifydClient;
