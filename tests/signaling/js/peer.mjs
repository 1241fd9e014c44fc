// A browser-like WebRTC peer for the signaling tests, using the official socket.io-client.
// It joins a session and answers the first offer it gets, then sends an ICE candidate.
// Every event it sees is printed as one JSON line; it exits after the offerer's ICE
// candidate arrives (the exchange is complete) or on a connection error.
//   node peer.mjs URL SESSION_ID [TOKEN]
import { io } from "socket.io-client";

const [url, sessionId, token] = process.argv.slice(2);
const print = (event, data) => console.log(JSON.stringify({ event, data }));

const socket = io(url, {
  auth: token ? { token } : {},
  transports: ["websocket"],
  reconnection: false,
});

socket.on("connect", () => {
  print("connect", { id: socket.id });
  socket.emit("join-session", { session_id: sessionId, name: "js-peer" }, (ack) => print("joined", ack));
});
socket.on("connect_error", (err) => {
  print("connect_error", { message: err.message, data: err.data ?? null });
  process.exit(2);
});
for (const name of ["peer-joined", "peer-left", "signaling-error", "answer"]) {
  socket.on(name, (data) => print(name, data));
}
socket.on("offer", (msg) => {
  print("offer", msg);
  socket.emit(
    "answer",
    { session_id: sessionId, to: msg.from, sdp: "v=0\r\no=js-answer 1 1 IN IP4 0.0.0.0\r\n" },
    (ack) => print("answer-ack", ack),
  );
  socket.emit("ice-candidate", {
    session_id: sessionId,
    to: msg.from,
    candidate: { candidate: "candidate:1 1 udp 2122260223 10.0.0.2 54321 typ host", sdpMid: "0", sdpMLineIndex: 0 },
  });
});
socket.on("ice-candidate", (msg) => {
  print("ice-candidate", msg);
  socket.disconnect();
  process.exit(0);
});
setTimeout(() => { print("timeout", {}); process.exit(3); }, 30000);
