import { currency } from "@storefront/shared";

console.log(currency(1999));
