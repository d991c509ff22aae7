// The phone report page: keep what was typed across failures, preview photos, share the
// device's location on consent, and send the form with fetch so a failed upload can be retried.
(function () {
  "use strict";
  var form = document.getElementById("field-form");
  if (!form) { return; }
  var key = form.dataset.key;
  var labels = JSON.parse(form.dataset.labels || "{}");
  var kept = ["percent", "text", "phase"];
  var submit = document.getElementById("field-submit");
  var retry = document.getElementById("field-retry");

  function saveDraft() {
    // the text survives a reload or a lost connection: it is only cleared once saved
    var draft = {};
    kept.forEach(function (name) { draft[name] = form.elements[name].value; });
    try { localStorage.setItem(key, JSON.stringify(draft)); } catch (e) { /* private mode */ }
  }

  function restoreDraft() {
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (!draft) { return; }
    kept.forEach(function (name) {
      if (draft[name] !== undefined && draft[name] !== "") { form.elements[name].value = draft[name]; }
    });
  }

  function showError(field, message) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    var target = document.getElementById(field + "-error") || document.getElementById("form-error");
    target.textContent = message;
    var input = form.elements[field];
    if (input && input.focus) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function preview() {
    var box = document.getElementById("previews");
    box.textContent = "";
    Array.prototype.forEach.call(form.elements.photos.files, function (file) {
      var fig = document.createElement("figure");
      fig.className = "photo-card";
      if (/^image\/(jpeg|png|webp)$/.test(file.type)) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        fig.appendChild(img);
      }
      var cap = document.createElement("figcaption");
      cap.textContent = file.name + "（" + Math.round(file.size / 1024) + " KB）";
      fig.appendChild(cap);
      box.appendChild(fig);
    });
  }

  function showResults(data) {
    var box = document.getElementById("field-result");
    box.textContent = "";
    var head = document.createElement("p");
    head.textContent = "已保存进展和 " + data.photos.length + " 张照片。";
    box.appendChild(head);
    data.photos.forEach(function (p) {
      var fig = document.createElement("figure");
      fig.className = "photo-card verdict-" + p.verdict;
      var cap = document.createElement("figcaption");
      var badge = document.createElement("span");
      badge.className = "verdict-badge";
      badge.textContent = (labels.verdicts || {})[p.verdict] || p.verdict;
      badge.style.background = (labels.colors || {})[p.verdict] || "#555";
      cap.appendChild(badge);
      cap.appendChild(document.createTextNode(" " + p.file));
      var list = document.createElement("ul");
      list.className = "checks";
      (labels.checks || []).forEach(function (pair) {  // [name, label] in the pages' order
        var check = p.checks[pair[0]];
        if (!check) { return; }
        var li = document.createElement("li");
        li.className = "check-" + check.verdict;
        var name = document.createElement("b");
        name.textContent = pair[1] + " ";
        li.appendChild(name);
        li.appendChild(document.createTextNode(check.message));
        list.appendChild(li);
      });
      cap.appendChild(list);
      fig.appendChild(cap);
      box.appendChild(fig);
    });
  }

  function send() {
    submit.disabled = retry.disabled = true;
    submit.textContent = "正在上传…";
    var body = new FormData(form);
    fetch(form.action, {method: "POST", body: body, credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {ok: false, status: response.status}; })
          .then(function (data) { return {status: response.status, data: data}; });
      })
      .then(function (answer) {
        if (answer.data.ok) {
          try { localStorage.removeItem(key); } catch (e) { /* private mode */ }
          form.hidden = true;
          document.getElementById("previews").textContent = "";
          showResults(answer.data);
        } else if (answer.status === 400 || answer.status === 413) {
          showError(answer.data.field || "form", answer.data.error || "提交的内容有误");
          retry.hidden = true;
        } else {
          throw new Error(answer.data.error || ("服务器返回 " + answer.status));
        }
      })
      .catch(function (err) {
        showError("form", "上传失败（" + err.message + "），填写的内容和照片都已保留，可点击“重新上传”。");
        retry.hidden = false;
      })
      .finally(function () {
        submit.disabled = retry.disabled = false;
        submit.textContent = "提交进展";
      });
  }

  restoreDraft();
  kept.forEach(function (name) { form.elements[name].addEventListener("input", saveDraft); });
  form.elements.photos.addEventListener("change", preview);
  form.addEventListener("submit", function (event) { event.preventDefault(); saveDraft(); send(); });
  retry.addEventListener("click", send);
  document.getElementById("share-location").addEventListener("change", function (event) {
    var state = document.getElementById("location-state");
    if (!event.target.checked) {
      form.elements.device_lon.value = form.elements.device_lat.value = "";
      state.textContent = "";
      return;
    }
    if (!navigator.geolocation) { state.textContent = "此浏览器不能提供位置"; return; }
    state.textContent = "正在获取位置…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.device_lon.value = pos.coords.longitude;
      form.elements.device_lat.value = pos.coords.latitude;
      state.textContent = "已获取位置（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
    }, function (err) {
      state.textContent = "未能获取位置：" + err.message;
      event.target.checked = false;
    }, {enableHighAccuracy: true, timeout: 15000});
  });
})();
