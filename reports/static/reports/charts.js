// Charts of the Report center (Chart.js is vendored). Data comes from json_script elements.
(function () {
  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  var palette = ["#2f6fed", "#12b886", "#f59f00", "#e03131", "#7048e8", "#1098ad", "#d6336c", "#5c940d", "#868e96", "#adb5bd"];

  var usage = data("usage-chart-data");
  if (usage && document.getElementById("usage-chart")) {
    new Chart(document.getElementById("usage-chart"), {
      type: "line",
      data: {
        labels: usage.labels,
        datasets: usage.series.map(function (series, index) {
          return { label: series.label, data: series.data, borderColor: palette[index], backgroundColor: palette[index], stepped: true, pointRadius: 0, spanGaps: true };
        })
      },
      options: { maintainAspectRatio: false, interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  var storage = data("storage-chart-data");
  if (storage && document.getElementById("storage-chart")) {
    new Chart(document.getElementById("storage-chart"), {
      type: "line",
      data: {
        labels: storage.labels,
        datasets: storage.series.map(function (series, index) {
          return { label: series.label, data: series.data, borderColor: palette[index], backgroundColor: palette[index], pointRadius: 0, spanGaps: true };
        })
      },
      options: { maintainAspectRatio: false, interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true, title: { display: true, text: storage.unit } } } }
    });
  }

  var pie = data("custom-chart-data");
  if (pie && document.getElementById("custom-chart")) {
    new Chart(document.getElementById("custom-chart"), {
      type: "pie",
      data: { labels: pie.labels, datasets: [{ data: pie.data, backgroundColor: palette }] },
      options: { maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  }
})();
