// Hallmark phone capture page: pick or capture photos (and, when the desktop takes them,
// a tilt video), upload them one at a time to the paired desktop, and show each answer.
// Served by app/capture/phone.py.
"use strict";

(() => {
  function limit(name, fallback) {
    const meta = document.querySelector('meta[name="' + name + '"]');
    const value = meta ? Number(meta.content) : NaN;
    return Number.isFinite(value) ? value : fallback;
  }
  const photoKind = { noun: "photo", maxBytes: limit("hallmark-max-upload-bytes", 20_000_000) };
  const videoKind = { noun: "video", maxBytes: limit("hallmark-max-video-bytes", 0) };
  const results = document.getElementById("results");
  const resultsTitle = document.getElementById("results-title");
  const waiting = [];
  let uploading = false;
  let captured = 0;

  function size(bytes) {
    return bytes < 1e6 ? Math.ceil(bytes / 1e3) + " kB" : (bytes / 1e6).toFixed(1) + " MB";
  }

  function emptyTile() {
    const tile = document.createElement("span");
    tile.className = "thumb";
    return tile;
  }

  function thumbnail(blob) {
    const thumb = document.createElement("img");
    thumb.className = "thumb";
    thumb.alt = "";
    thumb.src = URL.createObjectURL(blob);
    thumb.addEventListener("load", () => URL.revokeObjectURL(thumb.src), { once: true });
    thumb.addEventListener("error", () => {  // not an image: an empty tile instead
      URL.revokeObjectURL(thumb.src);
      thumb.replaceWith(emptyTile());
    }, { once: true });
    return thumb;
  }

  function addRow(blob, name, kind) {
    const item = document.createElement("li");
    const thumb = kind === videoKind ? emptyTile() : thumbnail(blob);
    const title = document.createElement("span");
    title.textContent = name + " · " + size(blob.size);
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = "Waiting…";
    item.append(thumb, title, progress, status);
    results.prepend(item);
    resultsTitle.hidden = false;
    return { item, title, progress, status };
  }

  function settle(row, reply) {
    row.progress.remove();
    if (reply.accepted) {
      const pixels = " (" + reply.width + "×" + reply.height + ")";
      row.item.className = "accepted";
      row.status.textContent = reply.video
        ? "Accepted as video " + reply.video + ": " + reply.frames + " frames" + pixels
        : "Accepted as photo " + reply.photo + pixels;
    } else {
      row.item.className = "rejected";
      row.status.textContent = "Rejected: " + reply.reason;
    }
  }

  function upload(job) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/upload");
      xhr.setRequestHeader("Content-Type", job.blob.type || "application/octet-stream");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) job.row.progress.value = event.loaded / event.total;
      });
      if (job.kind === videoKind) {
        xhr.upload.addEventListener("load", () => {
          job.row.status.textContent = "Sent; the desktop is reading the frames…";
        });
      }
      xhr.addEventListener("load", () => {
        let reply;
        try {
          reply = JSON.parse(xhr.responseText);
        } catch (error) {
          reply = { accepted: false, reason: "The desktop answered " + xhr.status + "." };
        }
        settle(job.row, reply);
        resolve();
      });
      xhr.addEventListener("error", () => {
        settle(job.row, {
          accepted: false,
          reason: "Could not reach the desktop. Is the phone on the same Wi-Fi?",
        });
        resolve();
      });
      job.row.status.textContent = "Sending…";
      xhr.send(job.blob);
    });
  }

  async function pump() {
    if (uploading) return;
    uploading = true;
    while (waiting.length) await upload(waiting.shift());
    uploading = false;
  }

  function send(blob, name, kind) {
    const row = addRow(blob, name, kind);
    if (blob.size > kind.maxBytes) {
      settle(row, {
        accepted: false,
        reason: "The " + kind.noun + " is " + size(blob.size) + "; the limit is " +
          size(kind.maxBytes) + ".",
      });
      return;
    }
    waiting.push({ blob, row, kind });
    pump();
  }

  function chosen(kind) {
    return (event) => {
      for (const file of event.target.files) send(file, file.name || kind.noun, kind);
      event.target.value = "";  // choosing the same file again fires "change" again
    };
  }

  document.getElementById("camera").addEventListener("change", chosen(photoKind));
  document.getElementById("gallery").addEventListener("change", chosen(photoKind));
  if (videoKind.maxBytes > 0) {
    document.getElementById("tilt-video").addEventListener("change", chosen(videoKind));
    document.getElementById("tilt").hidden = false;
    resultsTitle.textContent = "Photos and videos sent";
  }

  // Live preview: browsers allow the camera only in a secure context (HTTPS or localhost).
  const live = document.getElementById("live");
  const note = document.getElementById("live-note");
  const video = document.getElementById("preview");

  function showNote(text) {
    note.textContent = text;
    note.hidden = false;
  }

  function capture() {
    if (!video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    captured += 1;
    const name = "capture " + captured + ".jpg";
    canvas.toBlob((blob) => blob && send(blob, name, photoKind), "image/jpeg", 0.92);
  }

  async function startLive() {
    showNote("Starting the camera… allow it for a live preview.");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: {
          facingMode: { ideal: "environment" },
          width: { ideal: 1920 },
          height: { ideal: 1080 },
        },
      });
      video.srcObject = stream;
      live.hidden = false;
      note.hidden = true;
      document.getElementById("camera-button").classList.remove("primary");
    } catch (error) {
      showNote("Live preview is unavailable (" + error.name + "). Use Take photos instead.");
    }
  }

  document.getElementById("shoot").addEventListener("click", capture);
  if (window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    startLive();
  } else {
    showNote(
      "Live preview needs a secure (HTTPS) connection. Take photos opens your camera instead.",
    );
  }
})();
