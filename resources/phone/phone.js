// Hallmark phone capture page: pick or capture photos, upload them one at a time to the
// paired desktop, and show each photo's answer. Served by app/capture/phone.py.
"use strict";

(() => {
  const meta = document.querySelector('meta[name="hallmark-max-upload-bytes"]');
  const maxBytes = Number(meta && meta.content) || 20_000_000;
  const results = document.getElementById("results");
  const resultsTitle = document.getElementById("results-title");
  const waiting = [];
  let uploading = false;
  let captured = 0;

  function size(bytes) {
    return bytes < 1e6 ? Math.ceil(bytes / 1e3) + " kB" : (bytes / 1e6).toFixed(1) + " MB";
  }

  function addRow(blob, name) {
    const item = document.createElement("li");
    const thumb = document.createElement("img");
    thumb.className = "thumb";
    thumb.alt = "";
    thumb.src = URL.createObjectURL(blob);
    thumb.addEventListener("load", () => URL.revokeObjectURL(thumb.src), { once: true });
    thumb.addEventListener("error", () => {  // not an image: an empty tile instead
      URL.revokeObjectURL(thumb.src);
      const tile = document.createElement("span");
      tile.className = "thumb";
      thumb.replaceWith(tile);
    }, { once: true });
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
      row.item.className = "accepted";
      row.status.textContent =
        "Accepted as photo " + reply.photo + " (" + reply.width + "×" + reply.height + ")";
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

  function send(blob, name) {
    const row = addRow(blob, name);
    if (blob.size > maxBytes) {
      settle(row, {
        accepted: false,
        reason: "The photo is " + size(blob.size) + "; the limit is " + size(maxBytes) + ".",
      });
      return;
    }
    waiting.push({ blob, row });
    pump();
  }

  function onFilesChosen(event) {
    for (const file of event.target.files) send(file, file.name || "photo");
    event.target.value = "";  // choosing the same file again fires "change" again
  }

  document.getElementById("camera").addEventListener("change", onFilesChosen);
  document.getElementById("gallery").addEventListener("change", onFilesChosen);

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
    canvas.toBlob((blob) => blob && send(blob, name), "image/jpeg", 0.92);
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
