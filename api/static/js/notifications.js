/* Mark a notification read without leaving the list. */
"use strict";

document.querySelectorAll("[data-read]").forEach((button) => {
  button.addEventListener("click", async () => {
    const response = await tongban.api("POST", button.dataset.read);
    if (response.status === 200) { button.closest("li").classList.remove("unread"); button.remove(); }
  });
});
