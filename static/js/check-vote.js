// "Check my vote": repeat the server's proof in the browser (RFC 9162 inclusion proof with
// Web Crypto's SHA-256, and the tree head's Ed25519 signature where the browser has it).
(function () {
  const data = JSON.parse(document.getElementById("proof-data").textContent);
  const status = document.getElementById("browser-check");

  const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (text) => new Uint8Array(text.match(/../g).map((pair) => parseInt(pair, 16)));
  const joined = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const node = (left, right) => sha256(joined(Uint8Array.of(1), left, right));

  async function included() {
    let fn = data.index, sn = data.size - 1;
    let r = await sha256(joined(Uint8Array.of(0), new TextEncoder().encode(data.record)));
    for (const step of data.proof.map(unhex)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(step, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, step);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && hex(r) === data.root;
  }

  // The record must be the entered receipt's, in this poll; its hash must lead, by the
  // path, to the root; and that root, size and time must be what the city signed.
  function ownBallot() {
    const record = JSON.parse(data.record);
    return record.receipt === data.receipt && record.poll === data.poll;
  }

  function signedMessage() {
    // The canonical JSON of civic_verify.records.tree_head_message: sorted keys, no spaces.
    const head = { poll: data.poll, root: data.root, size: data.size, time: data.time, type: "civic-tree-head-v1" };
    return new TextEncoder().encode(JSON.stringify(head));
  }

  async function signed() {
    try {
      const key = await crypto.subtle.importKey("raw", unhex(data.public_key), { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, unhex(data.signature), signedMessage());
    } catch (error) {
      return null; // no Ed25519 in this browser
    }
  }

  (async function () {
    const inLog = ownBallot() && (await included());
    const signature = inLog ? await signed() : false;
    const outcome = !inLog || signature === false ? "failed" : signature === null ? "noSignature" : "ok";
    status.textContent = status.dataset[outcome];
    status.dataset.outcome = outcome;
    status.classList.toggle("ok", outcome !== "failed");
    status.classList.toggle("refusal", outcome === "failed");
  })();
})();
