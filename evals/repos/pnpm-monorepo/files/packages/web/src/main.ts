import { currency } from "@storefront/shared";

document.body.textContent = currency(500);
