// TCP sockets with the options a BGP speaker needs and Node cannot set (Linux only):
//
//   TCP_MD5SIG        RFC 2385: every segment to and from a peer carries an MD5 signature
//                     keyed with a shared password; the kernel drops unsigned or badly signed
//                     segments before TCP sees them (so a wrong password looks like a peer
//                     that never answers, not like a reset).
//   IP_MINTTL /       RFC 5082 (GTSM) §3: a peer N hops away sends with TTL 255, so its
//   IPV6_MINHOPCOUNT  segments arrive with at least 256 - N; the kernel drops anything lower
//                     before it reaches TCP, which keeps forged traffic from far away out.
//   IP_TTL /          RFC 5082 §3 (1): our own segments leave with TTL 255 so the peer's
//   IPV6_UNICAST_HOPS check passes.
//
// Node gets plain file descriptors: a listening one for `server.listen({ fd })`, and a
// connected one for `new net.Socket({ fd })` once waitConnect() says the non-blocking connect
// finished. Waiting uses a libuv poll handle on Node's own loop, not a thread-pool worker:
// a SYN the peer's kernel drops (wrong password, GTSM) is retried for about two minutes, and
// a blocked worker would starve fs and dns of the four shared threads meanwhile.
//
// Errors are JS exceptions carrying the errno name in `code` (EINVAL, ENOPROTOOPT, ...), the
// negated errno in `errno` (as Node's own system errors do) and the failing call in `syscall`.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------
// Errors

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what = "") {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscall) + " " + code + (what.empty() ? "" : " (" + what + ")") + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Bad arguments are EINVAL too, as the kernel would say, but a TypeError.
void ThrowArg(Napi::Env env, const std::string& msg) {
  Napi::TypeError e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "EINVAL"));
  e.ThrowAsJavaScriptException();
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what = "") {
  ErrnoError(env, err, syscall, what).ThrowAsJavaScriptException();
}

// ---------------------------------------------------------------------------------------
// Addresses

// An IPv4 address given for an AF_INET6 socket becomes ::ffff:a.b.c.d: a dual-stack socket
// sees IPv4 peers in that form, and TCP_MD5SIG on such a socket only accepts AF_INET6
// addresses (the kernel files a mapped one as an IPv4 key).
bool ParseAddr(const std::string& text, int sockFamily, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof(*ss));
  in_addr a4;
  in6_addr a6;
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    if (sockFamily == AF_INET) {
      auto* s = reinterpret_cast<sockaddr_in*>(ss);
      s->sin_family = AF_INET;
      s->sin_port = htons(port);
      s->sin_addr = a4;
      *len = sizeof(*s);
    } else {
      auto* s = reinterpret_cast<sockaddr_in6*>(ss);
      s->sin6_family = AF_INET6;
      s->sin6_port = htons(port);
      s->sin6_addr.s6_addr[10] = 0xff;
      s->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&s->sin6_addr.s6_addr[12], &a4, 4);
      *len = sizeof(*s);
    }
    return true;
  }
  if (sockFamily == AF_INET6 && inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    auto* s = reinterpret_cast<sockaddr_in6*>(ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    s->sin6_addr = a6;
    *len = sizeof(*s);
    return true;
  }
  return false;
}

// Every option here is an IPv4/IPv6 one: another kind of socket is EAFNOSUPPORT.
int SocketFamily(int fd, int* family) {
  socklen_t l = sizeof(*family);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, family, &l) != 0) return errno;
  return *family == AF_INET || *family == AF_INET6 ? 0 : EAFNOSUPPORT;
}

// ---------------------------------------------------------------------------------------
// Socket options. Each returns 0 or an errno value.

int SetMd5Key(int fd, int family, const sockaddr_storage& peer, const uint8_t* key, size_t keyLen) {
  // RFC 2385 §2: the key is a connection-independent shared secret; Linux keeps one per peer
  // address on the socket, and a listening socket's keys are copied to the connections it
  // accepts. A zero-length key deletes the peer's key.
  tcp_md5sig sig;
  memset(&sig, 0, sizeof(sig));
  memcpy(&sig.tcpm_addr, &peer, sizeof(peer));
  sig.tcpm_keylen = static_cast<uint16_t>(keyLen);
  if (keyLen > 0) memcpy(sig.tcpm_key, key, keyLen);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) == 0) return 0;
  return errno;
}

// ttl: 1..255, or -1 for the system default.
int SetTtl(int fd, int family, int ttl) {
  // On an AF_INET6 socket the IPv4 option still governs IPv4-mapped connections.
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) != 0) return errno;
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) != 0) return errno;
  return 0;
}

// minTtl: 0 (no check) .. 255; one value for both families of a dual-stack socket.
int SetMinTtl(int fd, int family, int v4, int v6) {
  if (setsockopt(fd, IPPROTO_IP, IP_MINTTL, &v4, sizeof(v4)) != 0) return errno;
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &v6, sizeof(v6)) != 0) return errno;
  return 0;
}

// ---------------------------------------------------------------------------------------
// Making the socket, possibly in another network namespace

struct NsSocket {
  const char* netns;
  int domain;
  int fd;
  int err;
  const char* syscall;
};

// setns(CLONE_NEWNET) moves only the calling thread, and a socket stays in the namespace it
// was created in. So a short-lived thread enters the namespace, creates the socket and ends:
// Node's own threads never change namespace.
void* SocketInNetns(void* arg) {
  auto* s = static_cast<NsSocket*>(arg);
  int ns = open(s->netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    s->err = errno;
    s->syscall = "open";
    return nullptr;
  }
  if (setns(ns, CLONE_NEWNET) != 0) {
    s->err = errno;
    s->syscall = "setns";
    close(ns);
    return nullptr;
  }
  close(ns);
  s->fd = socket(s->domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (s->fd < 0) {
    s->err = errno;
    s->syscall = "socket";
  }
  return nullptr;
}

int OpenSocket(int domain, const std::string& netns, int* err, const char** syscall) {
  NsSocket s{netns.c_str(), domain, -1, 0, "socket"};
  if (netns.empty()) {
    s.fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s.fd < 0) s.err = errno;
  } else {
    pthread_t t;
    int e = pthread_create(&t, nullptr, SocketInNetns, &s);
    if (e != 0) {
      *err = e;
      *syscall = "pthread_create";
      return -1;
    }
    pthread_join(t, nullptr);
  }
  *err = s.err;
  *syscall = s.syscall;
  return s.fd;
}

// ---------------------------------------------------------------------------------------
// Argument parsing (no C++ exceptions: each helper throws into JS and returns false)

bool GetFamily(const Napi::CallbackInfo& info, size_t i, int* domain) {
  if (info.Length() <= i || !info[i].IsNumber()) return ThrowArg(info.Env(), "family must be 4 or 6"), false;
  int f = info[i].As<Napi::Number>().Int32Value();
  if (f != 4 && f != 6) return ThrowArg(info.Env(), "family must be 4 or 6"), false;
  *domain = f == 4 ? AF_INET : AF_INET6;
  return true;
}

bool GetFd(const Napi::CallbackInfo& info, size_t i, int* fd) {
  if (info.Length() <= i || !info[i].IsNumber()) return ThrowArg(info.Env(), "fd must be a non-negative integer"), false;
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 0x7fffffff || d != static_cast<int>(d)) return ThrowArg(info.Env(), "fd must be a non-negative integer"), false;
  *fd = static_cast<int>(d);
  return true;
}

bool GetString(Napi::Env env, Napi::Value v, const char* name, std::string* out) {
  if (!v.IsString()) return ThrowArg(env, std::string(name) + " must be a string"), false;
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

// An integer option in [lo, hi]; absent (undefined) leaves *out unchanged.
bool GetInt(Napi::Env env, Napi::Object o, const char* name, int lo, int hi, int* out) {
  Napi::Value v = o.Get(name);
  if (env.IsExceptionPending()) return false;
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1e18;
  if (d < lo || d > hi || d != static_cast<long long>(d)) {
    return ThrowArg(env, std::string(name) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi)), false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool GetOptString(Napi::Env env, Napi::Object o, const char* name, std::string* out) {
  Napi::Value v = o.Get(name);
  if (env.IsExceptionPending()) return false;
  if (v.IsUndefined()) return true;
  return GetString(env, v, name, out);
}

// RFC 2385 keys are opaque bytes; Linux takes at most TCP_MD5SIG_MAXKEYLEN (80) of them.
bool GetKey(Napi::Env env, Napi::Value v, std::string* out) {
  if (v.IsString()) {
    *out = v.As<Napi::String>().Utf8Value();
  } else if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<uint8_t>>();
    out->assign(reinterpret_cast<const char*>(b.Data()), b.Length());
  } else {
    return ThrowArg(env, "an MD5 key must be a string or a Buffer"), false;
  }
  if (out->empty() || out->size() > TCP_MD5SIG_MAXKEYLEN) {
    return ThrowArg(env, "an MD5 key must be 1.." + std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes"), false;
  }
  return true;
}

struct Spec {
  int domain = AF_INET;
  std::string netns;
  std::string address;  // local address to bind; empty = none (or the wildcard for a listener)
  int port = -1;        // local port; -1 = none
  int backlog = 511;
  int ttl = 0;          // 0 = leave the system default
  int minTtl = 0;       // 0 = no check
  int v6only = -1;      // -1 = system default
  std::vector<std::pair<sockaddr_storage, std::string>> keys;
};

bool ParseSpec(const Napi::CallbackInfo& info, Spec* s, bool listening) {
  Napi::Env env = info.Env();
  if (!GetFamily(info, 0, &s->domain)) return false;
  if (info.Length() < 2 || info[1].IsUndefined()) {
    if (listening) return ThrowArg(env, "options with port are required"), false;
    return true;
  }
  if (!info[1].IsObject()) return ThrowArg(env, "options must be an object"), false;
  Napi::Object o = info[1].As<Napi::Object>();
  const char* addrName = listening ? "address" : "localAddress";
  const char* portName = listening ? "port" : "localPort";
  if (!GetOptString(env, o, addrName, &s->address)) return false;
  if (!GetInt(env, o, portName, 0, 65535, &s->port)) return false;
  if (listening && s->port < 0) return ThrowArg(env, "port must be an integer in 0..65535"), false;
  if (!GetInt(env, o, "backlog", 1, 65535, &s->backlog)) return false;
  if (!GetInt(env, o, "ttl", 1, 255, &s->ttl)) return false;
  if (!GetInt(env, o, "minTtl", 0, 255, &s->minTtl)) return false;
  int v6only = -1;
  Napi::Value v6 = o.Get("v6only");
  if (!v6.IsUndefined()) {
    if (!v6.IsBoolean()) return ThrowArg(env, "v6only must be a boolean"), false;
    v6only = v6.As<Napi::Boolean>().Value() ? 1 : 0;
  }
  s->v6only = v6only;
  if (!GetOptString(env, o, "netns", &s->netns)) return false;
  Napi::Value keys = o.Get("md5");
  if (!keys.IsUndefined()) {
    if (!keys.IsArray()) return ThrowArg(env, "md5 must be an array of { address, key }"), false;
    Napi::Array arr = keys.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsObject()) return ThrowArg(env, "md5 must be an array of { address, key }"), false;
      Napi::Object k = e.As<Napi::Object>();
      std::string addr, key;
      if (!GetString(env, k.Get("address"), "md5[].address", &addr)) return false;
      if (!GetKey(env, k.Get("key"), &key)) return false;
      sockaddr_storage ss;
      socklen_t len;
      if (!ParseAddr(addr, s->domain, 0, &ss, &len)) return ThrowArg(env, "md5[].address \"" + addr + "\" is not an address of the socket's family"), false;
      s->keys.emplace_back(ss, key);
    }
  }
  return true;
}

// Creates the socket and applies everything but listen(); returns the fd, or -1 with a JS
// exception pending (the fd closed).
int Build(Napi::Env env, const Spec& s, bool listening) {
  int err = 0;
  const char* syscall = "socket";
  int fd = OpenSocket(s.domain, s.netns, &err, &syscall);
  if (fd < 0) return ThrowErrno(env, err, syscall, s.netns), -1;
  auto fail = [&](int e, const char* call, const std::string& what = "") {
    close(fd);
    ThrowErrno(env, e, call, what);
    return -1;
  };
  // RFC 4271 §8.2.1.1 lets both speakers connect at once; a restarted speaker must be able to
  // bind port 179 (or a fixed source port) again while old connections sit in TIME_WAIT.
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) return fail(errno, "setsockopt", "SO_REUSEADDR");
  if (s.domain == AF_INET6 && s.v6only >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &s.v6only, sizeof(s.v6only)) != 0)
    return fail(errno, "setsockopt", "IPV6_V6ONLY");
  // Keys go on before connect() or listen(): the SYN is the first segment to sign (RFC 2385 §2).
  for (const auto& k : s.keys) {
    int e = SetMd5Key(fd, s.domain, k.first, reinterpret_cast<const uint8_t*>(k.second.data()), k.second.size());
    if (e != 0) return fail(e, "setsockopt", "TCP_MD5SIG");
  }
  if (s.ttl > 0) {
    int e = SetTtl(fd, s.domain, s.ttl);
    if (e != 0) return fail(e, "setsockopt", "IP_TTL");
  }
  if (s.minTtl > 0) {
    int e = SetMinTtl(fd, s.domain, s.minTtl, s.minTtl);
    if (e != 0) return fail(e, "setsockopt", "IP_MINTTL");
  }
  if (listening || !s.address.empty() || s.port >= 0) {
    sockaddr_storage ss;
    socklen_t len;
    std::string a = s.address.empty() ? (s.domain == AF_INET ? "0.0.0.0" : "::") : s.address;
    if (!ParseAddr(a, s.domain, static_cast<uint16_t>(s.port < 0 ? 0 : s.port), &ss, &len)) {
      close(fd);
      ThrowArg(env, "\"" + a + "\" is not an address of the socket's family");
      return -1;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail(errno, "bind", a + " port " + std::to_string(s.port));
  }
  return fd;
}

// md5Socket(family, { localAddress?, localPort?, md5?: [{address, key}], ttl?, minTtl?, netns? }) → fd
Napi::Value Md5Socket(const Napi::CallbackInfo& info) {
  Spec s;
  if (!ParseSpec(info, &s, false)) return info.Env().Undefined();
  int fd = Build(info.Env(), s, false);
  if (fd < 0) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), fd);
}

// listenSocket(family, { address?, port, backlog?, md5?, ttl?, minTtl?, v6only?, netns? }) → fd
Napi::Value ListenSocket(const Napi::CallbackInfo& info) {
  Spec s;
  if (!ParseSpec(info, &s, true)) return info.Env().Undefined();
  int fd = Build(info.Env(), s, true);
  if (fd < 0) return info.Env().Undefined();
  if (listen(fd, s.backlog) != 0) {
    int e = errno;
    close(fd);
    ThrowErrno(info.Env(), e, "listen");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

// setMd5Key(fd, peerAddress, key | null): adds or replaces a peer's key, or removes it
// (removing a key that is not there is not an error).
Napi::Value SetMd5KeyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, family;
  std::string addr, key;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  if (info.Length() < 2 || !GetString(env, info[1], "peerAddress", &addr)) return env.Undefined();
  bool remove = info.Length() < 3 || info[2].IsNull() || info[2].IsUndefined();
  if (!remove && !GetKey(env, info[2], &key)) return env.Undefined();
  int e = SocketFamily(fd, &family);
  if (e != 0) return ThrowErrno(env, e, "getsockopt", "SO_DOMAIN"), env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  if (!ParseAddr(addr, family, 0, &ss, &len)) return ThrowArg(env, "\"" + addr + "\" is not an address of the socket's family"), env.Undefined();
  e = SetMd5Key(fd, family, ss, reinterpret_cast<const uint8_t*>(key.data()), key.size());
  if (e != 0 && !(remove && e == ENOENT)) ThrowErrno(env, e, "setsockopt", "TCP_MD5SIG " + addr);
  return env.Undefined();
}

// setTtl(fd, ttl): 1..255, or -1 for the system default.
Napi::Value SetTtlJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, family;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  int ttl = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (ttl != -1 && (ttl < 1 || ttl > 255)) return ThrowArg(env, "ttl must be 1..255 or -1"), env.Undefined();
  int e = SocketFamily(fd, &family);
  if (e == 0) e = SetTtl(fd, family, ttl);
  if (e != 0) ThrowErrno(env, e, "setsockopt", "IP_TTL");
  return env.Undefined();
}

// setMinTtl(fd, minTtl, minHopCount = minTtl): 0 (off) .. 255. The second value is the
// IPv6 one of a dual-stack socket (IPv4-mapped peers are checked against the first).
Napi::Value SetMinTtlJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, family;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  auto num = [&](size_t i, int dflt) { return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : dflt; };
  int v4 = num(1, -1);
  int v6 = num(2, v4);
  if (v4 < 0 || v4 > 255 || v6 < 0 || v6 > 255) return ThrowArg(env, "minTtl must be 0..255"), env.Undefined();
  int e = SocketFamily(fd, &family);
  if (e == 0) e = SetMinTtl(fd, family, v4, v6);
  if (e != 0) ThrowErrno(env, e, "setsockopt", "IP_MINTTL");
  return env.Undefined();
}

// connectNonBlocking(fd, address, port) → true when connected at once, false while the
// handshake runs (EINPROGRESS); other errors throw.
Napi::Value ConnectNonBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, family;
  std::string addr;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  if (info.Length() < 2 || !GetString(env, info[1], "address", &addr)) return env.Undefined();
  double port = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
  if (port < 1 || port > 65535 || port != static_cast<int>(port)) return ThrowArg(env, "port must be an integer in 1..65535"), env.Undefined();
  int e = SocketFamily(fd, &family);
  if (e != 0) return ThrowErrno(env, e, "getsockopt", "SO_DOMAIN"), env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  if (!ParseAddr(addr, family, static_cast<uint16_t>(port), &ss, &len)) return ThrowArg(env, "\"" + addr + "\" is not an address of the socket's family"), env.Undefined();
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINPROGRESS) return Napi::Boolean::New(env, false);
  ThrowErrno(env, errno, "connect", addr + " port " + std::to_string(static_cast<int>(port)));
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------
// Waiting for a non-blocking connect on Node's loop

struct Wait {
  uv_poll_t poll;
  napi_env env;
  int fd;
  Napi::FunctionReference cb;
  std::unique_ptr<Napi::AsyncContext> ctx;
};

std::mutex waitsMu;
std::map<int, Wait*> waits;  // by fd: at most one wait per socket

void OnClosed(uv_handle_t* h) { delete static_cast<Wait*>(h->data); }

void CleanupHook(void* arg);

// Stops watching the fd before anything else may: uv_close() removes it from epoll at once,
// so Node can take the fd over in the callback that follows.
void Stop(Wait* w) {
  {
    std::lock_guard<std::mutex> g(waitsMu);
    waits.erase(w->fd);
  }
  napi_remove_env_cleanup_hook(w->env, CleanupHook, w);
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
}

// The environment is going away (a worker thread ends): close without calling back.
void CleanupHook(void* arg) {
  auto* w = static_cast<Wait*>(arg);
  w->cb.Reset();
  w->ctx.reset();
  {
    std::lock_guard<std::mutex> g(waitsMu);
    waits.erase(w->fd);
  }
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
}

void OnPoll(uv_poll_t* h, int status, int events) {
  auto* w = static_cast<Wait*>(h->data);
  // Writable (or EPOLLERR, which libuv reports as UV_EBADF) means the handshake ended;
  // SO_ERROR says how: 0, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...
  int err = 0;
  socklen_t l = sizeof(err);
  if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
  if (err == 0 && status < 0) err = -status;  // libuv's codes are negated errno values on Linux
  Stop(w);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Value arg = err == 0 ? env.Null() : ErrnoError(env, err, "connect").Value();
  w->cb.MakeCallback(env.Global(), {arg}, *w->ctx);
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
  w->cb.Reset();
  w->ctx.reset();
}

// waitConnect(fd, callback(err | null)): calls back once the non-blocking connect finished.
Napi::Value WaitConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsFunction()) return ThrowArg(env, "callback must be a function"), env.Undefined();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return ThrowErrno(env, EINVAL, "napi_get_uv_event_loop"), env.Undefined();
  {
    std::lock_guard<std::mutex> g(waitsMu);
    if (waits.count(fd)) return ThrowErrno(env, EALREADY, "waitConnect"), env.Undefined();
  }
  auto* w = new Wait();
  w->env = env;
  w->fd = fd;
  int r = uv_poll_init_socket(loop, &w->poll, fd);
  if (r != 0) {
    delete w;
    return ThrowErrno(env, -r, "uv_poll_init"), env.Undefined();
  }
  w->poll.data = w;
  r = uv_poll_start(&w->poll, UV_WRITABLE, OnPoll);
  if (r != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
    return ThrowErrno(env, -r, "uv_poll_start"), env.Undefined();
  }
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  w->ctx = std::make_unique<Napi::AsyncContext>(env, "TernSockoptConnect");
  napi_add_env_cleanup_hook(env, CleanupHook, w);
  std::lock_guard<std::mutex> g(waitsMu);
  waits[fd] = w;
  return env.Undefined();
}

// cancelWait(fd) → true when a wait was stopped (its callback is never called).
Napi::Value CancelWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  Wait* w = nullptr;
  {
    std::lock_guard<std::mutex> g(waitsMu);
    auto it = waits.find(fd);
    if (it != waits.end() && it->second->env == static_cast<napi_env>(env)) w = it->second;
  }
  if (w == nullptr) return Napi::Boolean::New(env, false);
  Stop(w);
  w->cb.Reset();
  w->ctx.reset();
  return Napi::Boolean::New(env, true);
}

// socketInfo(fd): what the kernel says the options are (diagnostics and tests).
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, family;
  if (!GetFd(info, 0, &fd)) return env.Undefined();
  int e = SocketFamily(fd, &family);
  if (e != 0) return ThrowErrno(env, e, "getsockopt", "SO_DOMAIN"), env.Undefined();
  auto get = [&](int level, int name, const char* what, int* out) {
    socklen_t l = sizeof(*out);
    if (getsockopt(fd, level, name, out, &l) == 0) return true;
    ThrowErrno(env, errno, "getsockopt", what);
    return false;
  };
  int ttl = 0, minTtl = 0, reuse = 0, listening = 0, hops = -1, minHops = -1, type = 0;
  if (!get(SOL_SOCKET, SO_TYPE, "SO_TYPE", &type) || !get(SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", &reuse) ||
      !get(SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN", &listening) || !get(IPPROTO_IP, IP_TTL, "IP_TTL", &ttl) ||
      !get(IPPROTO_IP, IP_MINTTL, "IP_MINTTL", &minTtl))
    return env.Undefined();
  if (family == AF_INET6 && (!get(IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", &hops) ||
                             !get(IPPROTO_IPV6, IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT", &minHops)))
    return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", Napi::Number::New(env, family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0));
  o.Set("stream", Napi::Boolean::New(env, type == SOCK_STREAM));
  o.Set("reuseAddr", Napi::Boolean::New(env, reuse != 0));
  o.Set("listening", Napi::Boolean::New(env, listening != 0));
  o.Set("ttl", Napi::Number::New(env, ttl));
  o.Set("minTtl", Napi::Number::New(env, minTtl));
  if (family == AF_INET6) {
    o.Set("hopLimit", Napi::Number::New(env, hops));
    o.Set("minHopCount", Napi::Number::New(env, minHops));
  }
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("md5Socket", Napi::Function::New(env, Md5Socket, "md5Socket"));
  exports.Set("listenSocket", Napi::Function::New(env, ListenSocket, "listenSocket"));
  exports.Set("setMd5Key", Napi::Function::New(env, SetMd5KeyJs, "setMd5Key"));
  exports.Set("setTtl", Napi::Function::New(env, SetTtlJs, "setTtl"));
  exports.Set("setMinTtl", Napi::Function::New(env, SetMinTtlJs, "setMinTtl"));
  exports.Set("connectNonBlocking", Napi::Function::New(env, ConnectNonBlocking, "connectNonBlocking"));
  exports.Set("waitConnect", Napi::Function::New(env, WaitConnect, "waitConnect"));
  exports.Set("cancelWait", Napi::Function::New(env, CancelWait, "cancelWait"));
  exports.Set("socketInfo", Napi::Function::New(env, SocketInfo, "socketInfo"));
  exports.Set("maxKeyLength", Napi::Number::New(env, TCP_MD5SIG_MAXKEYLEN));
  return exports;
}

}  // namespace

NODE_API_MODULE(sockopt, Init)
