// The city's rollup and feedback are made in the background: the page starts the job, shows its progress (files
// read and checked of all) and downloads the result when it is ready. Without this script the form posts and the
// download comes when the work is done. XMLHttpRequest, not fetch: older office browsers and WPS's CEF lack fetch.
(function () {
  function request(method, url, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      done(xhr.status, answer);
    };
    xhr.send(body);
  }

  function start(form, feedback) {
    var note = document.getElementById("working");
    var box = document.getElementById("progress");
    var bar = document.getElementById("bar");
    var stage = document.getElementById("stage");
    var buttons = form.querySelectorAll("button");
    var which = feedback ? "各区反馈" : "汇总表";
    var i;
    for (i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    note.textContent = "正在生成" + which + "，请稍候；生成后会自动下载。";
    note.hidden = false;
    box.hidden = false;
    function finish(text) {
      for (i = 0; i < buttons.length; i++) buttons[i].disabled = false;
      note.textContent = text;
    }
    function show(job) {
      bar.max = Math.max(job.total || 1, 1);
      bar.value = job.total ? job.done : 0;
      stage.textContent = job.stage + (job.total ? "（" + Math.floor(job.done / 2) + "/" + job.total / 2 + " 个地区）" : "");
    }
    function poll(id) {
      request("GET", "/city/jobs/" + encodeURIComponent(id), null, function (status, job) {
        if (status !== 200) { finish(job.error || "查询进度失败，请刷新页面后重试。"); return; }
        show(job);
        if (job.state === "running") { setTimeout(function () { poll(id); }, 500); return; }
        if (job.state === "done") {
          finish(which + "已生成，正在下载：" + job.name);
          window.location.href = "/city/jobs/" + encodeURIComponent(id) + "/result";
        } else {
          finish(job.stage);
        }
      });
    }
    var data = new FormData(form);
    if (feedback) data.append("feedback", "1");
    request("POST", "/city/jobs", data, function (status, job) {
      if (status !== 202) { finish(job.error || "未能开始生成，请刷新页面后重试。"); return; }
      show(job);
      poll(job.id);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.actions");
    if (form && window.XMLHttpRequest && window.FormData) {
      var feedback = false;
      var rollupButton = document.getElementById("rollup");
      var feedbackButton = document.getElementById("feedback");
      if (rollupButton) rollupButton.addEventListener("click", function () { feedback = false; });
      if (feedbackButton) feedbackButton.addEventListener("click", function () { feedback = true; });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        start(form, feedback);
      });
    }
    var upload = document.querySelector("form.upload");
    if (upload) {
      upload.addEventListener("submit", function () {
        var sending = document.getElementById("sending");
        if (sending) sending.hidden = false;
      });
    }
  });
})();
