/* The reseller dashboard's "Available licences" chart: one line per pool, switched by checkboxes.
   Data comes from the page (json_script "available-licences-data"); Chart.js is vendored. */
(function () {
  "use strict";
  var source = document.getElementById("available-licences-data");
  var canvas = document.getElementById("available-licences-chart");
  if (!source || !canvas || !window.Chart) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var words = data.words || {};
  var palette = ["#2f6fed", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
  var last = data.days.length - 1;
  // Points (and tooltips) on the first day of each month, and on today.
  var marked = data.days.map(function (day, index) {
    return day.slice(8) === "01" || index === last;
  });

  var chart = new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.days,
      datasets: data.series.map(function (series, index) {
        var colour = palette[(series.colour === undefined ? index : series.colour) % palette.length];
        // A line that starts or ends inside the window (a pool that expired) shows its ends as points.
        var first = series.percent.findIndex(function (value) { return value !== null; });
        var lastDrawn = series.percent.length - 1 - series.percent.slice().reverse().findIndex(function (value) { return value !== null; });
        var shown = function (isMarked, day) { return isMarked || day === first || day === lastDrawn; };
        return {
          label: series.label,
          data: series.percent,
          purchased: series.purchased,
          allocated: series.allocated,
          borderColor: colour,
          backgroundColor: colour,
          borderWidth: 2,
          tension: 0.2,
          spanGaps: true,
          pointRadius: marked.map(function (isMarked, day) { return shown(isMarked, day) ? 3 : 0; }),
          pointHoverRadius: marked.map(function (isMarked, day) { return shown(isMarked, day) ? 6 : 0; }),
        };
      }),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: {
          min: 0,
          max: 100,
          ticks: { callback: function (value) { return value + "%"; } },
          title: { display: true, text: words.available || "" },
        },
        x: {
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            callback: function (value) {
              var day = this.getLabelForValue(value);
              return day.slice(8) === "01" ? day.slice(0, 7) : null;
            },
          },
          grid: {
            color: function (context) {
              var day = data.days[context.index] || "";
              return day.slice(8) === "01" ? "rgba(0,0,0,0.08)" : "transparent";
            },
          },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          filter: function (item) {
            return marked[item.dataIndex] && item.raw !== null;
          },
          callbacks: {
            label: function (item) {
              var dataset = item.dataset;
              return (
                dataset.label + ": " + item.formattedValue + "% " + (words.available || "") +
                " · " + (words.purchased || "") + " " + dataset.purchased[item.dataIndex] +
                " · " + (words.allocated || "") + " " + dataset.allocated[item.dataIndex]
              );
            },
          },
        },
      },
    },
  });

  document.querySelectorAll("[data-chart-series]").forEach(function (checkbox) {
    checkbox.addEventListener("change", function () {
      chart.setDatasetVisibility(Number(checkbox.dataset.chartSeries), checkbox.checked);
      chart.update();
    });
  });
})();
