// Node.js runtime for Lambent: a Lambda Runtime API client on Node's standard library.
//
// The platform starts it as `node bootstrap.mjs` with the environment AWS Lambda sets
// (_HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_RUNTIME_API, ...). As seen from a handler it behaves
// like the AWS nodejs20.x runtime (aws-lambda-nodejs-runtime-interface-client 3.x). Handler
// resolution, handler styles, the context object, error payloads, Runtime.* init errors and
// the console format match it. So do the exit codes: 129 after an uncaught exception and 128
// after an unhandled rejection.
//
// Logs go to stdout through synchronous writes. Output still buffered in process.stdout or
// process.stderr is drained before each response or error is posted, so a platform reading the
// pipes receives an invocation's output before its result.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { format, types } from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
// The AWS runtime starts node with --max-http-header-size 81920 because client context headers can be large.
const MAX_HEADER_SIZE = 81920;
// Upper bound for posting an error before the process exits after an uncaught exception.
const EXIT_POST_TIMEOUT_MS = 2000;

// ---------------------------------------------------------------------------------------------
// Error types and payloads

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    // A symbol cannot be converted implicitly to the message string.
    super(typeof reason === 'symbol' ? reason.toString() : reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const errorClass of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  errorClass.prototype.name = `Runtime.${errorClass.name}`;
}

function isErrorLike(value) {
  return Boolean(
    value &&
      typeof value.name === 'string' &&
      value.name &&
      typeof value.message === 'string' &&
      value.message &&
      typeof value.stack === 'string' &&
      value.stack,
  );
}

// Builds the body posted to /error and /init/error. A thrown non-Error becomes
// {"errorType": typeof value, "errorMessage": String(value), "trace": []} as on AWS.
function toErrorResponse(error) {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

// Replaces an Error by a plain object so that name, message, code and stack, which are not
// enumerable, appear in JSON next to the error's own enumerable properties.
function errorWithEnumerableProperties(value) {
  if (!(value instanceof Error)) {
    return value;
  }
  const plain = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') {
    plain.stack = value.stack.split('\n');
  }
  return plain;
}

// Formats an error for a text log record. The leading tab matches the AWS runtime.
function formatErrorForLog(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => errorWithEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(toErrorResponse(error));
  }
}

function percentEncode(character) {
  try {
    return encodeURIComponent(character);
  } catch {
    return '%3F'; // A lone surrogate has no UTF-8 encoding.
  }
}

// Percent-encodes every character that Node rejects in a header value (tab, printable ASCII and
// Latin-1 are allowed).
function toHeaderValue(text) {
  return String(text).replace(/[^\t\x20-\x7e\x80-\xff]/gu, percentEncode);
}

// ---------------------------------------------------------------------------------------------
// Standard output and the patched console

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(milliseconds) {
  Atomics.wait(sleepCell, 0, 0, milliseconds);
}

// process.stdout and process.stderr are created on first access. Wrapping the getters records
// which of them exist, so draining them never creates one (and never sets a pipe non-blocking).
const createdStdioStreams = [];
let stdoutStream;
for (const name of ['stdout', 'stderr']) {
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  if (!descriptor?.get || !descriptor.configurable) {
    continue;
  }
  let stream;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      if (stream === undefined) {
        stream = descriptor.get.call(process);
        createdStdioStreams.push(stream);
        if (name === 'stdout') {
          stdoutStream = stream;
        }
      }
      return stream;
    },
  });
}

// Writes all of buffer to fd before returning. Once Node has opened a pipe as process.stdout the
// descriptor is non-blocking, so EAGAIN means "pipe full": wait and retry.
function writeAllSync(fd, buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') {
        return; // EPIPE or EBADF: the reading end is gone, so the output is dropped.
      }
      sleepSync(1);
    }
  }
}

function writeStdout(text) {
  // Output queued in process.stdout must not be overtaken by a direct write.
  if (stdoutStream !== undefined && stdoutStream.writableLength > 0 && !stdoutStream.destroyed) {
    stdoutStream.write(text);
    return;
  }
  writeAllSync(1, Buffer.from(text, 'utf8'));
}

// Resolves once every created stdio stream has handed its queued output to the OS.
async function drainStdio() {
  for (const stream of createdStdioStreams) {
    while (stream.writableLength > 0 && !stream.destroyed) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

const LOG_LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

// The AWS runtime stores the current request id under this global symbol, and some libraries read it.
const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');

function currentRequestId() {
  return globalThis[REQUEST_ID_SYMBOL];
}

function formatTextRecord(level, message, params) {
  const line = `${new Date().toISOString()}\t${currentRequestId()}\t${level.name}\t${format(message, ...params)}`;
  return line.replace(/\n/g, '\r') + '\n';
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonRecord(level, message, params) {
  const record = {
    timestamp: new Date().toISOString(),
    level: level.name,
    requestId: currentRequestId(),
  };
  let line;
  if (params.length === 0) {
    record.message = message;
    try {
      line = JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = format(record.message);
      line = JSON.stringify(record);
    }
  } else {
    record.message = format(message, ...params);
    const error = [message, ...params].find((param) => param instanceof Error);
    if (error !== undefined) {
      record.errorType = error?.constructor?.name ?? 'UnknownError';
      record.errorMessage = error.message;
      record.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    }
    line = JSON.stringify(record);
  }
  return line.replace(/\n/g, '\r') + '\n';
}

const jsonLogFormat = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
const minimumLogLevel = LOG_LEVELS[process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LOG_LEVELS.TRACE;
const formatRecord = jsonLogFormat ? formatJsonRecord : formatTextRecord;

function log(level, message, ...params) {
  if (level.priority >= minimumLogLevel.priority) {
    writeStdout(formatRecord(level, message, params));
  }
}

// Logs a runtime-detected error as the AWS runtime does, e.g. "Invoke Error \t{...}" in text format.
function logError(label, error) {
  if (jsonLogFormat) {
    log(LOG_LEVELS.ERROR, intoError(error));
  } else {
    log(LOG_LEVELS.ERROR, label, formatErrorForLog(intoError(error)));
  }
}

function patchConsole() {
  console.trace = (message, ...params) => log(LOG_LEVELS.TRACE, message, ...params);
  console.debug = (message, ...params) => log(LOG_LEVELS.DEBUG, message, ...params);
  console.info = (message, ...params) => log(LOG_LEVELS.INFO, message, ...params);
  console.log = console.info;
  console.warn = (message, ...params) => log(LOG_LEVELS.WARN, message, ...params);
  console.error = (message, ...params) => log(LOG_LEVELS.ERROR, message, ...params);
  console.fatal = (message, ...params) => log(LOG_LEVELS.FATAL, message, ...params);
}

// ---------------------------------------------------------------------------------------------
// Runtime API client

function parseHostPort(hostPort) {
  const separator = hostPort.lastIndexOf(':');
  if (separator <= 0) {
    throw new Error(`invalid AWS_LAMBDA_RUNTIME_API '${hostPort}': expected host:port`);
  }
  const hostname = hostPort.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number.parseInt(hostPort.slice(separator + 1), 10);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid AWS_LAMBDA_RUNTIME_API '${hostPort}': expected a port in 1-65535`);
  }
  return { hostname, port };
}

class RuntimeApiClient {
  constructor(hostPort) {
    const { hostname, port } = parseHostPort(hostPort);
    this.hostname = hostname;
    this.port = port;
    // Idle keep-alive sockets are unref'd by the agent, so they never keep the event loop alive
    // and 'beforeExit' still fires when the handler's own work is done.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  // Sends one request and resolves to {status, headers, body}. A request that fails with
  // ECONNRESET on a reused keep-alive socket (the server closed it while idle) is sent once more.
  request(method, urlPath, body, headers = {}) {
    const attempt = (isRetry) =>
      new Promise((resolve, reject) => {
        const request = http.request(
          {
            hostname: this.hostname,
            port: this.port,
            path: urlPath,
            method,
            headers,
            agent: this.agent,
            maxHeaderSize: MAX_HEADER_SIZE,
          },
          (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () =>
              resolve({
                status: response.statusCode,
                headers: response.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
          },
        );
        request.on('error', (error) => {
          if (!isRetry && request.reusedSocket && error.code === 'ECONNRESET') {
            attempt(true).then(resolve, reject);
          } else {
            reject(error);
          }
        });
        request.end(body);
      });
    return attempt(false);
  }

  async nextInvocation() {
    const response = await this.request('GET', `${API_PREFIX}/invocation/next`);
    if (response.status !== 200) {
      throw new Error(`Failed to get next invocation: HTTP status ${response.status}: ${response.body}`);
    }
    return { bodyJson: response.body, headers: response.headers };
  }

  async post(urlPath, bodyString, extraHeaders = {}) {
    await drainStdio();
    await this.request('POST', urlPath, bodyString, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(bodyString),
      ...extraHeaders,
    });
  }

  postInvocationResponse(bodyString, requestId) {
    return this.post(`${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/response`, bodyString);
  }

  // NOTE: the AWS runtime also sends Lambda-Runtime-Function-XRay-Error-Cause. Lambent has no
  // X-Ray, and a stack-sized header could exceed the server's header limit, so it is left out.
  postInvocationError(error, requestId) {
    const response = toErrorResponse(error);
    return this.post(
      `${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/error`,
      serializeResponse(response),
      { [ERROR_TYPE_HEADER]: toHeaderValue(response.errorType) },
    );
  }

  postInitError(error) {
    const response = toErrorResponse(error);
    return this.post(`${API_PREFIX}/init/error`, serializeResponse(response), {
      [ERROR_TYPE_HEADER]: toHeaderValue(response.errorType),
    });
  }

  // Opens a streaming response (Lambda-Runtime-Function-Response-Mode: streaming): a chunked
  // POST whose trailers carry the error if the handler fails after the first byte.
  openResponseStream(requestId, highWaterMark) {
    return createResponseStream(this, requestId, highWaterMark);
  }
}

// Serializes a handler result as the AWS runtime does. Undefined becomes null, and a value that
// JSON.stringify rejects (cycles, BigInt) fails the invocation with the message below.
function serializeResponse(result) {
  let serialized;
  try {
    serialized = JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error('Unable to stringify response body');
  }
  if (serialized === undefined) {
    // NOTE: a function or symbol result fails here too. The AWS runtime's native client raises
    // a TypeError ("Wrong arguments") for it instead.
    throw new Error('Unable to stringify response body');
  }
  return serialized;
}

// ---------------------------------------------------------------------------------------------
// Response streaming (awslambda.streamifyResponse)

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';

class HttpResponseStream {
  // Prefixes the stream with the JSON prelude (status code, headers, cookies) and 8 NUL bytes,
  // the format function URLs expect.
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function streamifyResponse(handler, options) {
  handler[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') {
    handler[HANDLER_HIGHWATERMARK] = Number.parseInt(options.highWaterMark, 10);
  }
  return handler;
}

// Methods and properties of the underlying http.ClientRequest that the handler's stream exposes.
const STREAM_METHODS = [
  'cork', 'destroy', 'end', 'uncork', 'write',
  'addListener', 'emit', 'eventNames', 'getMaxListeners', 'listenerCount', 'listeners', 'off',
  'on', 'once', 'prependListener', 'prependOnceListener', 'rawListeners', 'removeAllListeners',
  'removeListener', 'setMaxListeners', 'setContentType',
];
const STREAM_READ_WRITE_PROPERTIES = ['destroyed', 'writable', '_onBeforeFirstWrite'];
const STREAM_READ_ONLY_PROPERTIES = [
  'writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded',
  'writableNeedDrain', 'writableHighWaterMark', 'writableCorked', 'writableLength',
];

function createResponseStream(client, requestId, highWaterMark) {
  let firstWriteDone = false;
  let resolveResponseDone;
  let rejectResponseDone;
  const responseDone = new Promise((resolve, reject) => {
    resolveResponseDone = resolve;
    rejectResponseDone = reject;
  });
  responseDone.catch(() => {}); // The caller may never await it.

  const request = http.request({
    hostname: client.hostname,
    port: client.port,
    method: 'POST',
    path: `${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/response`,
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Transfer-Encoding': 'chunked',
      Trailer: [ERROR_TYPE_HEADER, ERROR_BODY_TRAILER],
      'Content-Type': 'application/octet-stream',
    },
    agent: client.agent,
    highWaterMark,
  });
  request.on('response', (response) => {
    response.on('data', () => {});
    response.on('aborted', () => rejectResponseDone(new Error('Runtime API aborted the streaming response')));
    response.on('end', () => resolveResponseDone());
  });
  request.on('error', rejectResponseDone);

  request.setContentType = (contentType) => {
    if (firstWriteDone) {
      throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    }
    request.setHeader('Content-Type', contentType);
  };
  const originalWrite = request.write.bind(request);
  const originalEnd = request.end.bind(request);
  const runBeforeFirstWrite = () => {
    if (!firstWriteDone && typeof request._onBeforeFirstWrite === 'function') {
      request._onBeforeFirstWrite((prefix) => originalWrite(prefix));
    }
    firstWriteDone = true;
  };
  request.write = (chunk, encoding, callback) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    runBeforeFirstWrite();
    return originalWrite(chunk, encoding, callback);
  };
  // NOTE: the AWS runtime's end(chunk) skips the first-write hook, so there a stream made by
  // HttpResponseStream.from() and ended without a write() loses its prelude. Here end() runs it.
  request.end = (chunk, encoding, callback) => {
    if (typeof chunk === 'function') {
      [chunk, encoding, callback] = [undefined, undefined, chunk];
    } else if (typeof encoding === 'function') {
      [encoding, callback] = [undefined, encoding];
    }
    if (chunk !== undefined && chunk !== null) {
      request.write(chunk, encoding);
    } else {
      runBeforeFirstWrite();
    }
    return originalEnd(callback);
  };

  const stream = {};
  for (const method of STREAM_METHODS) {
    stream[method] = request[method].bind(request);
  }
  for (const property of STREAM_READ_WRITE_PROPERTIES) {
    Object.defineProperty(stream, property, {
      get: () => request[property],
      set: (value) => {
        request[property] = value;
      },
    });
  }
  for (const property of STREAM_READ_ONLY_PROPERTIES) {
    Object.defineProperty(stream, property, { get: () => request[property] });
  }

  // Ends the stream with the error in trailers, which the platform reports as the invocation error.
  const fail = async (error) => {
    const response = toErrorResponse(error);
    await drainStdio();
    if (!request.writableEnded) {
      request.addTrailers({
        [ERROR_TYPE_HEADER]: toHeaderValue(response.errorType),
        [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(response)).toString('base64'),
      });
      originalEnd();
    }
    await responseDone.catch(() => {});
  };

  return { stream, responseDone, fail };
}

// ---------------------------------------------------------------------------------------------
// Loading the handler

const FUNCTION_EXPRESSION = /^([^.]*)\.(.*)$/;

function tryRequireFile(file, extension = '') {
  const filePath = file + extension;
  return fs.existsSync(filePath) ? require(filePath) : undefined;
}

async function tryImportFile(file, extension) {
  const filePath = file + extension;
  return fs.existsSync(filePath) ? import(pathToFileURL(filePath).href) : undefined;
}

// Returns true when the nearest package.json above folder sets "type": "module". The search
// stops at a node_modules folder or at the filesystem root.
function hasPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const packageJsonPath = path.join(folder, 'package.json');
  if (fs.existsSync(packageJsonPath)) {
    try {
      const packageJson = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'));
      if (packageJson) {
        return packageJson.type === 'module';
      }
    } catch (error) {
      console.warn(
        `${packageJsonPath} cannot be read, it will be ignored for ES module detection purposes.`,
        error,
      );
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasPackageJsonTypeModule(path.resolve(folder, '..'));
}

// Loads the module in the AWS runtime's order: the exact path, then `.js` (CommonJS unless the
// nearest package.json sets "type": "module"), `.mjs` and `.cjs`. The last resort is
// require.resolve() from the task root, which also finds node_modules packages and NODE_PATH.
async function loadModule(appRoot, moduleRoot, moduleName) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, moduleName);

  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }

  const typeModule = hasPackageJsonTypeModule(path.dirname(lambdaStylePath));
  if (!typeModule) {
    const commonJs = tryRequireFile(lambdaStylePath, '.js');
    if (commonJs) {
      return commonJs;
    }
  }

  const loaded =
    (typeModule && (await tryImportFile(lambdaStylePath, '.js'))) ||
    (await tryImportFile(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }

  const nodeStylePath = require.resolve(moduleName, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, moduleName) {
  const noGlobalAwsLambda = ['1', 'true'].includes(process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA);
  if (!noGlobalAwsLambda) {
    globalThis.awslambda = { streamifyResponse, HttpResponseStream };
  }

  try {
    return await loadModule(appRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UserCodeSyntaxError(error);
    }
    if (error?.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(error);
    }
    throw error;
  }
}

// Resolves _HANDLER ("path/module.fn", fn may be nested as "a.b") to the handler function.
async function loadHandler(appRoot, fullHandlerString) {
  if (typeof fullHandlerString !== 'string') {
    throw new MalformedHandlerName('Bad handler');
  }
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }

  const moduleAndHandler = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(FUNCTION_EXPRESSION);
  if (!match) {
    throw new MalformedHandlerName('Bad handler');
  }
  const [, moduleName, handlerPath] = match;

  const userApp = await loadUserApp(appRoot, moduleRoot, moduleName);
  const handler = handlerPath.split('.').reduce((object, key) => object && object[key], userApp);
  if (!handler) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handler;
}

function streamingMode(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) {
    return false;
  }
  if (mode === STREAM_RESPONSE) {
    return STREAM_RESPONSE;
  }
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

function highWaterMarkOf(handler) {
  const value = Number.parseInt(handler[HANDLER_HIGHWATERMARK], 10);
  return Number.isNaN(value) ? undefined : value;
}

// ---------------------------------------------------------------------------------------------
// Invocation context

function parseJsonHeader(value, name) {
  if (value === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error.toString()}`);
  }
}

// Adds the environment and invocation fields to the context object in the AWS runtime's order.
function attachInvocationData(context, headers) {
  const traceId = headers['lambda-runtime-trace-id'];
  if (traceId) {
    process.env._X_AMZN_TRACE_ID = traceId;
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }

  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return Object.assign(
    context,
    {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis() {
        return deadline - Date.now();
      },
    },
  );
}

function isPromise(value) {
  return Boolean(value && typeof value.then === 'function');
}

// ---------------------------------------------------------------------------------------------
// Uncaught exceptions and unhandled rejections

// After an uncaught exception (exit code 129) or an unhandled rejection (128) the runtime posts
// the error and exits, as the AWS runtime does. Until the first invocation arrives the error
// is posted as an init error, and during an invocation as that invocation's error. Once the
// invocation's outcome has been posted, the process exits without posting anything.
const postNothing = (_error) => Promise.resolve();
const crashReport = {
  exiting: false,
  post: postNothing,
};

function reportCrashAndExit(error, exitCode) {
  if (crashReport.exiting) {
    return;
  }
  crashReport.exiting = true;
  setTimeout(() => process.exit(exitCode), EXIT_POST_TIMEOUT_MS);
  crashReport.post(error).then(
    () => process.exit(exitCode),
    () => process.exit(exitCode),
  );
}

// ---------------------------------------------------------------------------------------------
// The invoke loop

// The single 'beforeExit' action. Node emits 'beforeExit' when the event loop has no work left,
// which is how a callback handler's response waits for the handler's timers and sockets.
let beforeExitAction = () => {};
const resetBeforeExit = () => {
  beforeExitAction = () => {};
};

class Runtime {
  constructor(client, handler) {
    this.client = client;
    this.handler = handler;
    this.isAsync = handler.constructor?.name === 'AsyncFunction';
    this.streaming = streamingMode(handler) === STREAM_RESPONSE;
    this.highWaterMark = highWaterMarkOf(handler);
  }

  scheduleIteration() {
    setImmediate(() => {
      const iteration = this.streaming ? this.handleOnceStreaming() : this.handleOnce();
      iteration.catch((error) => this.failRuntime(error));
    });
  }

  // Ends the process after a Runtime API failure, such as a refused connection or a non-200 /next.
  failRuntime(error) {
    log(LOG_LEVELS.INFO, `Unexpected Top Level Error: ${String(error)}`);
    reportCrashAndExit(error, 129);
  }

  // Waits for the post of an invocation's outcome, then starts the next iteration.
  afterOutcomePosted(post) {
    crashReport.post = postNothing;
    post.then(
      () => this.scheduleIteration(),
      (error) => this.failRuntime(error),
    );
  }

  setCrashReport(requestId) {
    crashReport.post = (error) => this.client.postInvocationError(error, requestId);
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const requestId = headers['lambda-runtime-aws-request-id'];
    if (!requestId) {
      throw new Error('invocation id is missing or invalid');
    }
    globalThis[REQUEST_ID_SYMBOL] = requestId;

    const { callback, context, markCompleted } = this.buildCallbackContext(requestId);
    try {
      this.setCrashReport(requestId);
      this.setDefaultBeforeExit(requestId, markCompleted);
      const result = this.handler(JSON.parse(bodyJson), attachInvocationData(context, headers), callback);
      if (isPromise(result)) {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (error) {
      callback(error);
    }
  }

  // Reports the result of a handler that returns without calling its callback once the event
  // loop runs empty: null for a plain function, Runtime.NodeJsExit for an async function whose
  // promise never settled.
  setDefaultBeforeExit(requestId, markCompleted) {
    beforeExitAction = () => {
      resetBeforeExit();
      if (!markCompleted()) {
        return;
      }
      if (this.isAsync) {
        const error = new NodeJsExit();
        logError('Invoke Error', error);
        this.afterOutcomePosted(this.client.postInvocationError(error, requestId));
      } else {
        this.afterOutcomePosted(this.client.postInvocationResponse('null', requestId));
      }
    };
  }

  // Builds the node-style callback and the succeed/fail/done part of the context. Only the first
  // call among callback, succeed, fail and done counts.
  buildCallbackContext(requestId) {
    let reported = false;
    let waitForEmptyEventLoop = true;

    const postError = (error) => {
      if (reported) {
        log(LOG_LEVELS.ERROR, 'Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      reported = true;
      logError('Invoke Error', error);
      this.afterOutcomePosted(this.client.postInvocationError(error, requestId));
    };
    const complete = (result) => {
      if (reported) {
        log(LOG_LEVELS.ERROR, 'Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      reported = true;
      let body;
      try {
        body = serializeResponse(result);
      } catch (error) {
        reported = false; // The caller turns the serialization error into the invocation error.
        throw error;
      }
      this.afterOutcomePosted(this.client.postInvocationResponse(body, requestId));
    };

    const rawCallback = (error, result) => {
      resetBeforeExit();
      if (error !== undefined && error !== null) {
        postError(error);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        beforeExitAction = () => {
          resetBeforeExit();
          setImmediate(() => complete(result));
        };
      }
    };
    const done = (error, result) => {
      resetBeforeExit();
      if (error !== undefined && error !== null) {
        postError(error);
      } else {
        complete(result);
      }
    };

    let finished = false;
    const firstCallOnly = (fn) =>
      function (...args) {
        if (!finished) {
          fn(...args);
          finished = true;
        }
      };

    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: firstCallOnly((result) => done(null, result)),
      fail: firstCallOnly((error) => (error === undefined || error === null ? done('handled') : done(error, null))),
      done: firstCallOnly(done),
    };
    // Returns false when the invocation was already reported.
    const markCompleted = () => {
      if (reported) {
        return false;
      }
      reported = true;
      return true;
    };
    return { callback: firstCallOnly(rawCallback), context, markCompleted };
  }

  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const requestId = headers['lambda-runtime-aws-request-id'];
    if (!requestId) {
      throw new Error('invocation id is missing or invalid');
    }
    globalThis[REQUEST_ID_SYMBOL] = requestId;

    let waitForEmptyEventLoop = true;
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
    };
    const scheduleNext = () => {
      crashReport.post = postNothing;
      resetBeforeExit();
      if (!waitForEmptyEventLoop) {
        this.scheduleIteration();
      } else {
        beforeExitAction = () => {
          resetBeforeExit();
          setImmediate(() => this.scheduleIteration());
        };
      }
    };

    const { stream, responseDone, fail: failStream } = this.client.openResponseStream(requestId, this.highWaterMark);
    const fail = async (error) => {
      logError('Invoke Error', error);
      await failStream(error);
      scheduleNext();
    };

    try {
      this.setCrashReport(requestId);
      beforeExitAction = () => {
        resetBeforeExit();
        this.scheduleIteration();
      };
      const handlerResult = this.handler(JSON.parse(bodyJson), stream, attachInvocationData(context, headers));
      if (!isPromise(handlerResult)) {
        await fail('Streaming does not support non-async handlers.');
        return;
      }
      const result = await handlerResult;
      if (result !== undefined) {
        log(LOG_LEVELS.WARN, 'Streaming handlers ignore return values.');
      }
      // NOTE: the AWS runtime keeps waiting when the handler returns without ending the stream,
      // so that invocation times out. Here an unended stream fails at once.
      if (!stream.writableEnded) {
        await fail('Response stream is not finished.');
        return;
      }
      await responseDone;
      scheduleNext();
    } catch (error) {
      await fail(error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function main() {
  patchConsole();

  let client;
  try {
    client = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API ?? '');
  } catch (error) {
    log(LOG_LEVELS.ERROR, String(error));
    process.exit(1);
  }

  crashReport.post = (error) => client.postInitError(error);
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    reportCrashAndExit(error, 129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    reportCrashAndExit(error, 128);
  });
  process.on('beforeExit', () => beforeExitAction());

  let runtime;
  try {
    const appRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
    runtime = new Runtime(client, await loadHandler(appRoot, process.env._HANDLER));
  } catch (error) {
    // The AWS runtime reports a failed load through its uncaughtException listener.
    logError('Uncaught Exception', error);
    reportCrashAndExit(error, 129);
    return;
  }
  runtime.scheduleIteration();
}

await main();
