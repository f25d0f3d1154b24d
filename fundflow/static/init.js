import { initAll } from '/assets/govuk-frontend.min.js'
initAll()

// govuk-frontend-jinja's service navigation renders its mobile "Menu" button with
// aria-hidden="true" beside `hidden`, and GOV.UK Frontend 5.13's script only removes
// `hidden`: keep aria-hidden in step, so the visible button is not hidden from screen readers.
for (const toggle of document.querySelectorAll('.govuk-js-service-navigation-toggle')) {
  const sync = () => toggle.hidden ? toggle.setAttribute('aria-hidden', 'true') : toggle.removeAttribute('aria-hidden')
  sync()
  new MutationObserver(sync).observe(toggle, { attributes: true, attributeFilter: ['hidden'] })
}
