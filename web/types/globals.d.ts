// The browser builds the console loads with <script> tags (vendor/*.min.js): the parts of
// their APIs the console uses.

declare namespace tus {
  interface HttpRequest {
    getMethod(): string;
    getURL(): string;
    setHeader(name: string, value: string): void;
    getHeader(name: string): string | undefined;
  }
  interface HttpResponse {
    getStatus(): number;
    getHeader(name: string): string | undefined;
    getBody(): string;
  }
  interface DetailedError extends Error {
    originalRequest?: HttpRequest;
    originalResponse?: HttpResponse | null;
  }
  interface PreviousUpload {
    size: number | null;
    metadata: Record<string, string>;
    creationTime: string;
    uploadUrl?: string;
    urlStorageKey: string;
  }
  interface UrlStorage {
    findAllUploads(): Promise<PreviousUpload[]>;
    findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]>;
    removeUpload(urlStorageKey: string): Promise<void>;
  }
  interface UploadOptions {
    endpoint?: string;
    uploadUrl?: string | null;
    metadata?: Record<string, string>;
    chunkSize?: number;
    retryDelays?: number[] | null;
    storeFingerprintForResuming?: boolean;
    removeFingerprintOnSuccess?: boolean;
    urlStorage?: UrlStorage;
    onProgress?: ((bytesSent: number, bytesTotal: number | null) => void) | null;
    onSuccess?: (() => void) | null;
    onError?: ((error: Error | DetailedError) => void) | null;
    onBeforeRequest?: ((req: HttpRequest) => void | Promise<void>) | null;
    onAfterResponse?: ((req: HttpRequest, res: HttpResponse) => void | Promise<void>) | null;
    onShouldRetry?: ((err: DetailedError, retryAttempt: number, options: UploadOptions) => boolean) | null;
  }
  class Upload {
    constructor(file: File | Blob, options: UploadOptions);
    file: File | Blob;
    url: string | null;
    options: UploadOptions;
    start(): void;
    abort(shouldTerminate?: boolean): Promise<void>;
    findPreviousUploads(): Promise<PreviousUpload[]>;
    resumeFromPreviousUpload(previousUpload: PreviousUpload): void;
  }
  const isSupported: boolean;
  const defaultOptions: UploadOptions & { urlStorage: UrlStorage };
}

declare namespace io {
  interface Socket {
    id: string | undefined;
    connected: boolean;
    auth: Record<string, unknown> | ((cb: (data: Record<string, unknown>) => void) => void);
    on(event: string, listener: (...args: any[]) => void): Socket;
    off(event: string, listener?: (...args: any[]) => void): Socket;
    emit(event: string, ...args: any[]): Socket;
    timeout(ms: number): { emitWithAck(event: string, ...args: any[]): Promise<any> };
    connect(): Socket;
    disconnect(): Socket;
    io: { on(event: string, listener: (...args: any[]) => void): void };
  }
  interface ManagerOptions {
    path?: string;
    transports?: string[];
    auth?: Socket["auth"];
    reconnection?: boolean;
  }
}
declare function io(uri?: string, opts?: io.ManagerOptions): io.Socket;

declare class Hls {
  static isSupported(): boolean;
  constructor(config?: Record<string, unknown>);
  loadSource(url: string): void;
  attachMedia(media: HTMLMediaElement): void;
  destroy(): void;
  on(event: string, cb: (event: string, data: any) => void): void;
  static Events: Record<string, string>;
}

interface Window {
  Hls?: typeof Hls;
}
