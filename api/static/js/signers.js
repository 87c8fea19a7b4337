/* 加签 / 减签 / 委派 on the task page: add co-signers, remove one, sign one's opinion, entrust the task. */
"use strict";

(function signing() {
  const section = document.getElementById("signing");
  if (!section) return;
  const reloadOr = (response, ok) => { if (response.status === ok) window.location.reload(); else alert(response.body.message); };
  const on = (id, handler) => {
    const form = document.getElementById(id);
    if (form) form.addEventListener("submit", (event) => { event.preventDefault(); handler(form); });
    return form;
  };

  const sign = on("sign-form", async (form) => {
    const decision = form.querySelector("input[name=decision]:checked").value;
    reloadOr(await tongban.api("POST", form.dataset.url,
                               {decision, opinion: document.getElementById("sign-opinion").value}), 200);
  });
  if (sign) document.getElementById("sign-opinion").focus({preventScroll: true});

  const add = on("add-signers", async (form) => {
    const picked = [...document.getElementById("signer-users").selectedOptions].map((o) => o.value);
    const others = document.getElementById("signer-others").value.split(/[,，\s]+/).filter(Boolean);
    const body = {mode: form.querySelector("input[name=mode]:checked").value, users: [...picked, ...others],
                  ask_approval: document.getElementById("signer-approval").checked,
                  reason: document.getElementById("signer-reason").value};
    reloadOr(await tongban.api("POST", form.dataset.url, body), 201);
  });

  const entrust = on("entrust-form", async (form) => {
    const user = document.getElementById("entrust-to").value;
    if (!user) return;
    const response = await tongban.api("POST", form.dataset.url,
                                       {user, reason: document.getElementById("entrust-reason").value});
    if (response.status === 204) window.location.href = "/inbox"; else alert(response.body.message);
  });

  section.querySelectorAll(".remove-signer").forEach((button) => button.addEventListener("click", async () => {
    const reason = document.getElementById("remove-reason");
    if (!reason.value.trim()) { reason.required = true; reason.reportValidity(); reason.focus(); return; }
    reloadOr(await tongban.api("POST", button.dataset.url, {reason: reason.value}), 200);
  }));

  if (add || entrust) {  /* the same colleagues 转办 offers: the task's role, in its organisation */
    (async () => {
      const response = await tongban.api("GET", document.getElementById("signer-users").dataset.url);
      for (const c of response.body || []) {
        const label = `${c.display_name} (${c.username})`;
        document.getElementById("signer-users").appendChild(Object.assign(document.createElement("option"), {value: c.username, textContent: label}));
        document.getElementById("entrust-to").appendChild(Object.assign(document.createElement("option"), {value: c.username, textContent: label}));
      }
    })();
  }
})();
