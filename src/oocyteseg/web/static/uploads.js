"use strict";
// The page's uploads and inbox (loaded before app.js, which defines api, message, $ and state).

// ---- uploads (one request per file, so one bad file does not block the others) ----
// POST one file with XMLHttpRequest (fetch cannot report upload progress); resolves to the JSON reply.
function postFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/jobs");
    xhr.responseType = "json";
    xhr.upload.onprogress = e => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300) ? resolve(xhr.response)
      : reject(new Error((xhr.response && xhr.response.detail) || `${xhr.status} ${xhr.statusText}`));
    xhr.onerror = () => reject(new Error("upload interrupted (server stopped or connection lost)"));
    xhr.send(form);
  });
}

async function uploadFiles(files) {
  for (const file of files) {
    message(`uploading ${file.name}…`);
    const line = $("#upload-messages").firstChild;
    try {
      const out = await postFile(file, f => { line.textContent = `uploading ${file.name}… ${Math.round(f * 100)} %`; });
      line.remove();
      message(`${file.name}: queued`);
      state.selected = out.jobs[0].id;
    } catch (err) {
      line.remove();
      message(`${file.name}: ${err.message}`, true);
    }
    refreshJobs();
  }
}

function setupUpload() {
  const drop = $("#drop"), input = $("#file-input");
  input.addEventListener("change", () => { uploadFiles([...input.files]); input.value = ""; });
  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, e => { e.preventDefault(); drop.classList.add("over"); });
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, e => { e.preventDefault(); drop.classList.remove("over"); });
  drop.addEventListener("drop", e => uploadFiles([...e.dataTransfer.files]));
}

// ---- inbox ----
async function refreshInbox() {
  const ul = $("#inbox");
  ul.replaceChildren();
  const {files} = await api("/api/inbox");
  if (!files.length) ul.innerHTML = `<li class="muted small">empty: put videos in the data folder's inbox/</li>`;
  for (const f of files) {
    const li = document.createElement("li");
    li.innerHTML = `<label><input type="checkbox"> <span></span> <span class="muted small"></span></label>`;
    li.querySelector("input").value = f.name;
    li.querySelector("span").textContent = f.name;
    li.querySelector(".small").textContent = `${(f.size / 1e6).toFixed(1)} MB`;
    ul.appendChild(li);
  }
  $("#inbox-run").disabled = !files.length;
}

async function runInbox() {
  const names = [...document.querySelectorAll("#inbox input:checked")].map(i => i.value);
  if (!names.length) return;
  try {
    const out = await api("/api/inbox/jobs", {method: "POST", headers: {"content-type": "application/json"},
                                              body: JSON.stringify({names})});
    state.selected = out.jobs[0].id;
  } catch (err) { message(err.message, true); }
  refreshJobs();
}
