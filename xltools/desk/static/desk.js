// While the city's rollup or feedback is being made (a minute or two for many districts), say so; the page stays
// usable and the download starts by itself when it is ready.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.actions");
  var note = document.getElementById("working");
  if (!form || !note) return;
  form.addEventListener("submit", function (event) {
    var which = event.submitter && event.submitter.id === "feedback" ? "各区反馈" : "汇总表";
    note.textContent = "正在生成" + which + "，请稍候；生成后会自动下载（地区较多时需要一两分钟）。";
    note.hidden = false;
    setTimeout(function () { note.hidden = true; }, 120000);
  });
  var upload = document.querySelector("form.upload");
  if (upload) {
    upload.addEventListener("submit", function () {
      var sending = document.getElementById("sending");
      if (sending) sending.hidden = false;
    });
  }
});
