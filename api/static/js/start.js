/* Start form: POST /api/v1/processes/{key}/instances, then go to the new case. */
"use strict";

const startButton = document.getElementById("submit");
mountForm((data) => tongban.api("POST", startButton.dataset.url, {data}),
          (body) => { window.location.href = `/cases/${body.id}`; });
