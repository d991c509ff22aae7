// Export links and forms marked data-export: say that the file is being made, download it, and
// say clearly when it fails. Without script the same links and forms work as plain requests.
(function () {
  "use strict";

  function statusOf(el) {
    var next = el.nextElementSibling;
    if (next && next.classList.contains("export-status")) { return next; }
    var span = document.createElement("span");
    span.className = "export-status";
    span.setAttribute("role", "status");
    el.insertAdjacentElement("afterend", span);
    return span;
  }

  function say(el, text, failed) {
    var span = statusOf(el);
    span.textContent = text;
    span.classList.toggle("failed", !!failed);
  }

  function fileName(resp) {
    var header = resp.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) { return decodeURIComponent(star[1]); }
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : "下载文件";
  }

  function errorText(resp) {
    // the server answers errors in Chinese: JSON {error} under /api, else an error page
    return resp.text().then(function (body) {
      try { return JSON.parse(body).error || ""; } catch (e) { /* an HTML page */ }
      var page = new DOMParser().parseFromString(body, "text/html");
      var found = page.querySelector(".error-message, .form-alert, [role=alert]");
      return found ? found.textContent.trim() : "服务器返回 " + resp.status;
    });
  }

  function download(url, el, onRefused) {
    el.classList.add("busy");
    el.setAttribute("aria-busy", "true");
    say(el, "正在生成，请稍候…");
    var started = Date.now();
    fetch(url, {credentials: "same-origin"})
      .then(function (resp) {
        if (resp.status === 400 && onRefused) { onRefused(); return null; }
        if (!resp.ok) { return errorText(resp).then(function (t) { throw new Error(t); }); }
        var name = fileName(resp);
        return resp.blob().then(function (blob) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = name;
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
          var seconds = ((Date.now() - started) / 1000).toFixed(1);
          say(el, "已生成 " + name + "（" + seconds + " 秒）");
        });
      })
      .catch(function (err) {
        say(el, "生成失败：" + (err.message || "网络中断") + "。可稍后重试；如仍失败请联系管理员。", true);
      })
      .finally(function () {
        el.classList.remove("busy");
        el.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export]");
    if (!link || link.classList.contains("busy")) { return; }
    event.preventDefault();
    download(link.href, link);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-export]");
    if (!form || form.dataset.plain) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]") || form;
    var query = new URLSearchParams(new FormData(form)).toString();
    // a refused value: submit normally, so the form comes back with the message beside it
    download(form.action + "?" + query, button, function () { form.dataset.plain = "1"; form.submit(); });
  });
})();
