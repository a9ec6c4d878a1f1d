"""Generate the Northwind Goods demo support-ticket corpus (tickets.jsonl).

Pure stdlib, seeded and deterministic: running
    python bench/make_demo_tickets.py [OUT]
rewrites labeler/demo/tickets.jsonl (or writes OUT) byte-for-byte identically. A generator, not runtime code:
the corpus it wrote ships as package data; tests/test_demo.py checks that the two still agree.

Every fragment and hand-written ticket below was written for this project;
all names, companies, emails and numbers are fictional.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20240611
PER_CLASS = 60
LABELS = [
    "billing",
    "technical_issue",
    "account_access",
    "shipping_delivery",
    "refund_request",
    "feature_request",
]
OUT = Path(__file__).resolve().parents[1] / "labeler" / "demo" / "tickets.jsonl"

# --------------------------------------------------------------------------
# Slot values
# --------------------------------------------------------------------------
FIRST = ["Maria", "James", "Aisha", "Tom", "Priya", "Lukas", "Chen", "Fatima", "Daniel",
         "Sofia", "Kwame", "Elena", "Marcus", "Yuki", "Olga", "Ben", "Nadia", "Carlos",
         "Hannah", "Ravi", "Ingrid", "Sam", "Leila", "Pete", "Grace", "Mateo", "Zoe",
         "Tariq", "Emma", "Jonas", "Amara", "Felix", "Rosa", "Owen", "Mei", "Anton"]
LAST = ["Whitfield", "Okoro", "Lindgren", "Patel", "Moreau", "Castellanos", "Brandt",
        "Nakamura", "Haddad", "Kowalski", "Ferreira", "Mbeki", "O'Donnell", "Rasmussen",
        "Varga", "Quinlan", "Ashby", "Delacroix", "Novak", "Sandoval", "Thorne", "Iqbal"]
SHOPS = ["Maple & Moss Candles", "Driftwood Supply Co.", "Little Fern Bakery",
         "Harbor Lane Prints", "Copperleaf Studio", "Bluebird Bike Repair",
         "Saltmarsh Soap Works", "Kestrel Outdoor", "Oakhollow Books", "Tinker & Thread"]
PRODUCTS = ["Alder desk lamp", "Cobalt trail backpack", "Fernwood ceramic mug set",
            "Halcyon wireless headphones", "Juniper standing desk", "Marlow wool throw",
            "Quill mechanical keyboard", "Tamarack cast-iron skillet", "Birch bamboo cutting board",
            "Solstice yoga mat", "Ember pour-over kettle", "Larkspur linen sheet set",
            "Cedar desk organizer", "Nimbus smart bulb 4-pack", "Wren kids' rain jacket"]
PLANS = ["Starter", "Team", "Business", "Growth", "Enterprise"]
PRICES = {"Starter": "$19", "Team": "$49", "Business": "$99", "Growth": "$149", "Enterprise": "$499"}
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Brave", "Chrome on a Chromebook"]
DEVICES = ["iPhone 13", "iPhone 15", "Pixel 7", "Samsung Galaxy S22", "iPad Air",
           "Windows 11 laptop", "MacBook Pro", "Lenovo ThinkPad", "OnePlus 11"]
ERRORS = ["Error 500: Internal Server Error",
          "Something went wrong. Please try again later. (code NW-E1042)",
          "ERR_CONNECTION_RESET",
          "Request timed out (408)",
          "Unexpected token < in JSON at position 0",
          "We couldn't load this page (ref 3c9e-71)",
          "Session expired. Please reload. (code NW-E2210)",
          "TypeError: Cannot read properties of undefined (reading 'items')",
          "503 Service Unavailable",
          "Sync failed: ERR_SYNC_TIMEOUT"]
CARRIERS = ["ParcelLine", "SwiftPost", "RapidRoute", "Crestway Freight"]
DATES = ["March 3", "the 14th", "last Tuesday", "April 22", "Monday", "the 2nd of this month",
         "Feb 27", "last Friday", "the 9th", "June 11", "yesterday", "the 28th", "Sept 5",
         "two weeks ago", "Nov 18", "the weekend"]
AMOUNTS = ["$12.99", "$19.00", "$24.50", "$39.95", "$49.00", "$58.20", "$79.00", "$89.99",
           "$112.40", "$149.00", "$186.75", "$230.00", "€45.00", "£32.99"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def make_slots(rng: random.Random) -> dict:
    first = rng.choice(FIRST)
    last = rng.choice(LAST)
    plan = rng.choice(PLANS)
    p1, p2 = rng.sample(PRODUCTS, 2)
    d1, d2 = rng.sample(DATES, 2)
    carrier = rng.choice(CARRIERS)
    return {
        "first": first,
        "last": last,
        "shop": rng.choice(SHOPS),
        "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@example.com",
        "order": f"NW-{rng.randint(40000, 69999)}",
        "order2": f"NW-{rng.randint(40000, 69999)}",
        "invoice": f"INV-{rng.randint(10000, 39999)}",
        "rma": f"RMA-{rng.randint(20000, 29999)}",
        "ticket": f"#{rng.randint(100000, 999999)}",
        "plan": plan,
        "price": PRICES[plan],
        "product": p1,
        "product2": p2,
        "browser": rng.choice(BROWSERS),
        "device": rng.choice(DEVICES),
        "phone": rng.choice(["iPhone 13", "iPhone 15", "Pixel 7", "Samsung Galaxy S22", "OnePlus 11", "Moto G54", "iPad"]),
        "error": rng.choice(ERRORS),
        "carrier": carrier,
        "tracking": f"{carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}",
        "date": d1,
        "date2": d2,
        "amount": rng.choice(AMOUNTS),
        "amount2": rng.choice(AMOUNTS),
        "days": str(rng.randint(3, 16)),
        "weeks": rng.choice(["two", "three", "2", "3", "almost four"]),
        "month": rng.choice(MONTHS),
        "card": str(rng.randint(1000, 9999)),
        "seats": str(rng.randint(3, 25)),
        "version": f"{rng.randint(3, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 4)}",
        "years": str(rng.randint(2, 9)),
    }


# --------------------------------------------------------------------------
# Per-class fragments
# --------------------------------------------------------------------------
FRAG = {
    "billing": {
        "subjects": ["Billing question", "Question about my invoice", "charge??", "Billing", "Invoice question"],
        "problems": [
            "I was charged {amount} on {date} but my {plan} plan is supposed to be {price} a month. || Wrong amount charged || Why was I charged {amount}?",
            "My card statement shows two charges from Northwind Studio this month and I only have one subscription. || Double charge? || Charged twice this month",
            "Invoice {invoice} lists {seats} seats but we only have a handful of active users. || Invoice {invoice} || Seat count on invoice wrong",
            "The invoice for {month} has the wrong company name and address on it. || Need a corrected invoice || Wrong details on {month} invoice",
            "I need a VAT invoice for order {order}, the receipt I got doesn't show the tax breakdown. || VAT invoice for {order} || Receipt needed for {order}",
            "My payment for invoice {invoice} keeps getting declined even though my bank says everything is fine. || Payment declined || Can't pay invoice {invoice}",
            "I'd like to update the credit card on file, the card ending in {card} expired last month. || Payment method update || New card",
            "Your price for the {plan} plan went up and I never got any notice about it. || Subscription price went up? || Price increase?",
            "I don't recognise a charge of {amount} from 'NWG*STUDIO' on {date}. || Unexpected charge on my card || Unknown charge",
            "We switched to annual billing but we're still being billed monthly. || Annual vs monthly billing || Still billed monthly",
            "There's a sales tax line on my invoice that I don't think should apply to us. || Tax on invoice || Sales tax question",
            "I received a payment reminder for invoice {invoice} but I already paid it on {date}. || Payment reminder but already paid || Invoice {invoice} already paid",
            "My Plus membership renewed at {amount}, which is more than the price shown on the website. || Plus membership price || Renewal amount",
            "Can someone explain the 'proration adjustment' of {amount} on my latest invoice? || Proration adjustment? || Question about my invoice",
            "The billing page says my account is past due but my last payment went through. || Account shows past due || Past due??",
            "I am paying for the {plan} plan but my account is showing the features of a lower plan, so I think the billing is mixed up. || Paying for {plan} but wrong features || Plan mix-up",
            "Please I need the invoice to be on my company name and not my personal name. || Invoice name change || Invoice on company name please",
            "I was billed for the {plan} plan although I changed to a smaller plan on {date}. || Billed for old plan || Billing after downgrade",
        ],
        "details": [
            "The payment went through on the card ending {card}.",
            "Our account email is {email}.",
            "I've attached a screenshot of the bank statement.",
            "The amount on the invoice is {amount2}, but the order total at checkout was {amount}.",
            "Our accounts payable team needs this before the end of the month.",
            "I checked the billing history in Settings and it doesn't match what the bank shows.",
            "We've been on the {plan} plan for about {years} years.",
            "The reference on the statement is something like NWG-{card}.",
            "Our company is {shop}, in case that helps you find the account.",
        ],
        "asks": [
            "Could you please check what happened and correct it?",
            "Please send a corrected invoice.",
            "Can you explain the charge?",
            "Please fix this before the next billing cycle.",
            "Can you tell me how to update this myself?",
            "I'd appreciate a breakdown of what I'm being charged for.",
            "Let me know what I need to do to get this sorted.",
            "Please make sure this doesn't happen again on the next invoice.",
            "Can you confirm what my correct monthly amount should be?",
            "Kindly check and revert.",
        ],
    },
    "technical_issue": {
        "subjects": ["Bug report", "Something's broken", "URGENT - site down?", "Technical problem", "Help - error"],
        "problems": [
            "[web]The Studio dashboard won't load, I just get '{error}'. || Dashboard not loading || Site not loading",
            "Every time I try to save a product listing I get '{error}'. || Error when saving || Can't save listings",
            "[app]The mobile app crashes as soon as I open the Orders tab on my {phone}. || App keeps crashing || Orders tab crash",
            "Since the {version} update the inventory sync has been stuck and nothing updates. || Sync broken || Issue after update {version}",
            "Image uploads fail halfway through, the progress bar gets to about 80% and then stops. || Can't upload images || Image upload failing",
            "[web]Your checkout page shows '{error}' when I press Place order. || Checkout error || Can't place order",
            "The CSV export downloads an empty file, just the headers and no rows. || export not working || Empty CSV export",
            "[web]Search on the website returns no results for anything, even '{product}'. || Search broken || Search not working",
            "[web]The reports page is completely blank in {browser}. || Reports page blank || Reports not loading",
            "Label printing stopped working, the PDF comes out blank. || Label printing broken || Blank shipping labels",
            "[app]The app freezes on the loading screen on my {phone}. || Mobile app freezing || App stuck on loading",
            "Notifications for new orders stopped coming through on {date}. || No order notifications || Notifications stopped",
            "[web]The page keeps reloading by itself every few seconds when I'm editing an order. || Page keeps reloading || Order editor bug",
            "[web]The {product} product page shows a spinning wheel forever and I can't add it to cart. || Product page not loading || Can't add to cart",
            "[app]The barcode scanner in the Studio app won't focus anymore. || Barcode scanner not working || Scanner bug",
            "[web]The discount code field throws '{error}' when I apply any code. || Discount code error || Promo code field broken",
            "[app]Your companion app says my {product} is offline even though it's connected to wifi. || {product} shows offline || Companion app problem",
            "Nothing happens when I click the Save button, it just stays grey. || Save button does nothing || Bug report",
        ],
        "details": [
            "[web]I'm using {browser} on my {device}.",
            "[web]Tried clearing cache and cookies, and incognito mode, same thing.",
            "It started around {date}.",
            "[app]I already reinstalled the app twice.",
            "[web]It works fine on my phone but not on the laptop.",
            "Other people on my team have the same issue.",
            "[web]The console shows '{error}'.",
            "[app]I'm on app version {version}.",
            "Our internet is fine, every other site works.",
            "This is blocking our orders for today.",
            "Screenshot attached.",
        ],
        "asks": [
            "Can you look into this?",
            "Is this a known issue?",
            "Please fix asap.",
            "Is there a workaround I can use in the meantime?",
            "Can someone from the tech team check it?",
            "Please let me know when it's fixed.",
            "Any idea what's going on?",
            "Could you escalate this to your developers?",
            "What should I try next?",
            "Is there an outage?",
        ],
    },
    "account_access": {
        "subjects": ["Can't log in", "Login problem", "Need access to my account", "Account help", "login"],
        "problems": [
            "I can't log in to my account, it keeps saying my password is incorrect even after I reset it. || Can't log in || Password not accepted",
            "The password reset email never arrives, I've checked spam and tried several times. || Password reset not working || No reset email",
            "My account got locked after a few failed login attempts. || Locked out of my account || account locked",
            "I lost my phone and with it the authenticator app, so I can't get past two-factor. || 2FA issue || Lost my authenticator",
            "The verification code by SMS never arrives. || verification code not arriving || No SMS code",
            "The password reset link says it has expired the moment I click it. || Reset link expired || Reset link not working",
            "I used to sign in with Google but now it says no account is linked to that email. || Can't sign in with Google || Google login problem",
            "I need to change the email on my account because I no longer have access to the old one. || Change account email || Update login email",
            "I got an email saying my password was changed, but I didn't change it. || Someone else logged into my account? || Password changed - not by me",
            "Our previous admin left the company and nobody else has owner access to the account. || Transfer account ownership || No admin access",
            "I'm stuck in a login loop, it sends me back to the sign-in page every time. || Login problem || Login loop",
            "My account says 'suspended' when I log in and I don't know why. || Account suspended? || Why is my account suspended",
            "I can't log in since I changed my phone number, the codes go to the old number. || Changed phone number, can't log in || 2FA codes going to old number",
            "I think I created two accounts by accident and now I can't get into the one with my orders. || Two accounts || Can't find my account",
            "I need to add a new team member as admin but I don't have permission to do it anymore. || Admin permissions || Need access to my account",
            "I can not enter to my account since {date}, it is saying the user does not exist. || Can not login || account problem",
            "After the security update I am asked for a code that never comes. || Code never comes || Login code",
        ],
        "details": [
            "The account email is {email}.",
            "I've tried in {browser} and on my {device}.",
            "My last order was {order}, if that helps verify me.",
            "I can prove it's my account, I have the invoices.",
            "I've had this account for {years} years.",
            "The error just says 'Invalid credentials'.",
            "The shop name on the account is {shop}.",
            "I'm happy to answer security questions.",
            "I need to get in today to process orders.",
        ],
        "asks": [
            "Can you unlock my account?",
            "Please help me get back in.",
            "Can you send a new reset link?",
            "How do I get access back?",
            "Could you reset the 2FA on my account?",
            "Please update the email on the account.",
            "What do you need from me to verify my identity?",
            "Please secure my account as soon as possible.",
            "Can you transfer ownership to me?",
            "Please advise.",
        ],
    },
    "shipping_delivery": {
        "subjects": ["Shipping question", "Where is my order?", "Delivery problem", "still waiting", "Order status"],
        "problems": [
            "[transit]My order {order} was supposed to arrive on {date} and it still hasn't come. || Where is my order? || Order {order} not arrived",
            "[transit]Tracking for {order} hasn't updated in {days} days, it just says 'In transit'. || Tracking not updating || Delivery status {order}",
            "[arrived]{carrier} says my package was delivered but there's nothing here. || Package marked delivered but not received || Not delivered",
            "[transit]I paid for express shipping on {order} and it's now {days} days later. || Express shipping didn't arrive express || Late delivery",
            "[pre]I need to change the delivery address for order {order}. || Delivery address change || Change address {order}",
            "[arrived]Only part of my order arrived, the {product} is missing. || Missing item in package || Incomplete order {order}",
            "[transit]The tracking number {tracking} doesn't work on the {carrier} site. || Tracking number invalid || Tracking not working",
            "[arrived]The box arrived badly dented and the {product} inside is scratched. || Damaged box || Arrived damaged",
            "[transit]My parcel is stuck at customs and I'm being asked to pay import fees. || Customs fees? || Parcel held at customs",
            "[arrived]The courier left my package at the wrong address. || Wrong address delivery || Package left at wrong house",
            "[transit]I ordered the {product} {weeks} weeks ago and haven't even got a shipping confirmation. || still waiting || No shipping confirmation",
            "[transit]The delivery was attempted while I was home, nobody knocked, and now it's going back to the depot. || Missed delivery?? || Delivery attempt - I was home",
            "[pre]Do you deliver to my area? The checkout won't accept my postcode. || Shipping question || Delivery to my postcode",
            "[transit]My order is showing as 'Processing' since {date}, when will it ship? || When will my order ship? || Order stuck in processing",
            "[transit]I am waiting my package since {weeks} weeks, order {order}. || still waiting || Order {order}",
            "[arrived]The parcel went to my old address even though I updated it before ordering. || Wrong address on parcel || Sent to old address",
        ],
        "details": [
            "The tracking number is {tracking}.",
            "[arrived]I've checked with my neighbours and the building manager.",
            "The order was placed on {date}.",
            "[transit]The last tracking update says 'Arrived at sorting facility'.",
            "[transit]It's a gift so I really need it by the weekend.",
            "[arrived]The order also had a {product2} which did arrive.",
            "[arrived]I'm home all day so I don't understand how it was missed.",
            "The carrier is {carrier}.",
            "[transit]The estimated delivery date keeps moving.",
        ],
        "asks": [
            "Can you tell me where it is?",
            "Can you check with the carrier?",
            "When can I expect it?",
            "[arrived]Please send the missing item.",
            "[pre]Can you update the address before it ships?",
            "Please let me know what the next steps are.",
            "Could you open an investigation with {carrier}?",
            "[arrived]Can it be reshipped?",
            "Please give me a real delivery date.",
            "Any update would be appreciated.",
        ],
    },
    "refund_request": {
        "subjects": ["Refund request", "Want my money back", "refund pls", "Refund", "Return and refund"],
        "problems": [
            "[item]I'd like a refund for the {product} from order {order}. || Refund request || Refund for order {order}",
            "[item]I returned order {order} on {date} and still haven't received my refund. || Where is my refund? || Refund not received",
            "[item]The {product} I received is defective and I want my money back. || Want my money back || Defective {product}",
            "[sub]I cancelled my {plan} subscription on {date} and would like a refund for the unused time. || Requesting refund for subscription || Money back for unused plan",
            "[sub]I forgot to cancel the free trial and was charged {amount}, I'd like that refunded please. || Refund for trial charge || refund pls",
            "[item]The return was received by your warehouse {days} days ago according to tracking but no refund yet. || Refund {rma} || Refund not received",
            "I was told my refund of {amount} was issued on {date} but it's not on my card. || Refund not on my card || Where is my refund?",
            "[item]I want to return the {product}, it's nothing like the photos, and get a full refund. || Return of {product} || Return and refund",
            "[item]The refund I got was {amount2} instead of {amount}, the shipping wasn't refunded. || Partial refund? || Refund amount wrong",
            "[item]My order never arrived and I'd rather have my money back than wait any longer. || Cancel and refund || Refund for order {order}",
            "[sub]Please refund the renewal of my Plus membership, I didn't mean to renew. || Refund Plus renewal || Refund request",
            "I was charged twice for {order} and want the duplicate payment refunded. || Refund duplicate charge || Charged twice - refund",
            "[item]I would like to request the reimbursement of my money for order {order} because the item came broken. || Reimbursement request || Refund for broken item",
            "[sub]I upgraded to {plan} by mistake and would like the difference refunded. || Refund for accidental upgrade || refund pls",
            "[item]I cancelled order {order} before it shipped and still don't see the refund. || Cancel and refund || Refund for cancelled order",
        ],
        "details": [
            "[item]The return label number was {rma}.",
            "[item]It's still in the original packaging, never used.",
            "I paid with the card ending {card}.",
            "[sub]I haven't used the {plan} features at all since then.",
            "Your website says refunds take 5-7 business days and it's been much longer.",
            "[item]I already sent photos of the damage to {ticket}.",
            "The order total was {amount}.",
            "Your support agent promised the refund on {date}.",
        ],
        "asks": [
            "Please process the refund.",
            "Can you confirm when the refund will be issued?",
            "I'd like the money back to my original payment method.",
            "[item]How do I send it back?",
            "Please refund the full amount.",
            "Can you check the status of my refund?",
            "[item]Could you send me a return label?",
            "Please confirm once the refund is done.",
            "I expect a refund within the week.",
            "Let me know if you need anything else to process it.",
        ],
    },
    "feature_request": {
        "subjects": ["Feature request", "Suggestion", "Idea for the app", "Would love to see...",
                     "Feature idea: {feature_short}", "Please add {feature_short}", "Wishlist item",
                     "Product feedback", "Any plans for {feature_short}?", "small suggestion",
                     "Request: {feature_short}", "Roadmap question"],
        "problems": [
            "It would be great if Studio had {feature}.",
            "Any chance you could add {feature}?",
            "I'd really like to see {feature} in the app.",
            "Is {feature} on your roadmap?",
            "My one wish for Northwind would be {feature}.",
            "We keep running into the lack of {feature}.",
            "Please consider adding {feature}.",
            "Would it be possible to have {feature} in a future update?",
            "I'm missing {feature}, every other tool I use has it.",
            "It will be very useful to have {feature}.",
        ],
        "features": [
            ("a dark mode", "dark mode"),
            ("a way to schedule price changes in advance", "scheduled price changes"),
            ("bulk editing for product listings", "bulk editing"),
            ("an option to save multiple shipping addresses", "multiple addresses"),
            ("a shareable wishlist", "shareable wishlist"),
            ("a public API for orders and invoices", "public API"),
            ("support for multiple currencies in one store", "multi-currency"),
            ("custom fields on invoices", "custom invoice fields"),
            ("more granular user permissions, like view-only staff", "user roles"),
            ("keyboard shortcuts in the order screen", "keyboard shortcuts"),
            ("an integration with our accounting software", "accounting integration"),
            ("the ability to export reports to Excel directly", "Excel export"),
            ("a low-stock alert by email or SMS", "low-stock alerts"),
            ("gift wrapping as a checkout option", "gift wrapping"),
            ("the option to split a shipment into several deliveries", "split shipments"),
            ("a calendar view for upcoming deliveries", "delivery calendar"),
            ("a German and Spanish version of the dashboard", "translations"),
            ("saved filters on the orders page", "saved filters"),
            ("two-factor login with a hardware key", "hardware key 2FA"),
            ("a subscribe-and-save option for things like coffee filters", "subscribe & save"),
        ],
        "details": [
            "Right now I have to do this by hand and it takes ages.",
            "We have about {seats} people on the {plan} plan who would use this daily.",
            "A competitor's tool has something similar and it works really well.",
            "I'd happily pay a bit more for it.",
            "It doesn't need to be fancy, even a basic version would help.",
            "I know you're busy, just putting the idea out there.",
            "It would save our team a few hours every week.",
            "Happy to beta test if you build it.",
            "We've been customers for {years} years and this is the one thing we miss.",
        ],
        "asks": [
            "Thanks for considering it!",
            "Is this something you'd consider?",
            "Let me know if it's planned.",
            "Would love to hear if this is on the roadmap.",
            "Please pass this on to the product team.",
            "Any timeline would be great.",
            "Just a suggestion, keep up the good work.",
            "Can you add my vote for this?",
        ],
    },
}

# Secondary-topic sentences, used to make some tickets mention two things.
ASIDES = {
    "billing": ["Also, unrelated, my last invoice looked a bit higher than usual.",
                "Side note: the receipt for {order} never came by email."],
    "technical_issue": ["Btw your website was super slow today too.",
                        "Also the app logged me out twice while I was writing this."],
    "account_access": ["I also had trouble logging in this morning but it worked on the second try.",
                       "On top of that, the password reset took three tries."],
    "shipping_delivery": ["Also my other order {order2} is still not here either.",
                          "And while I'm at it, the last delivery was two days late."],
    "refund_request": ["I'm honestly thinking about asking for my money back at this point.",
                       "I'm still waiting on a refund from a previous return too."],
    "feature_request": ["It would also be nice if the app showed this more clearly.",
                        "Maybe you could add a status page for things like this."],
}

GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hello Northwind team,", "Dear Support,",
             "Dear Northwind Goods,", "Hey,", "Good morning,", "Good afternoon,",
             "To whom it may concern,", "Hi support team,", "Hello support,", "Dear Sir or Madam,",
             "Hi team,", "Hiya,"]
OPENERS = ["I hope you're well.", "I'm writing about my account.", "Long-time customer here.",
           "First time contacting you, hopefully you can help.", "Sorry to bother you.",
           "I hope this is the right place to ask.", "Quick one.",
           "I already tried the help center but couldn't find an answer.",
           "I'm contacting you again because nobody replied to my last email.",
           "I hope you can help me with following problem."]
ANGRY = ["This is ridiculous.", "Honestly this is unacceptable.",
         "I've been a customer for {years} years and I've never been treated like this.",
         "This is the third time I'm writing about this.", "I'm really frustrated.",
         "If this isn't sorted I'm taking my business elsewhere.",
         "Nobody answers the phone either.", "Very disappointed."]
POLITE = ["No rush, whenever you get a chance.", "Thanks in advance for your help.",
          "I appreciate your help with this.", "Sorry if this has been asked before.",
          "Thank you for your time."]
CLOSINGS = ["Thanks,", "Thank you,", "Regards,", "Best regards,", "Best,", "Cheers,",
            "Many thanks,", "Kind regards,", "Thanks again,", "With best regards,", "Thx"]
SIGNOFF_EXTRA = ["Sent from my iPhone", "Sent from my Android phone", "", "", "", "", "", ""]


# --------------------------------------------------------------------------
# Hand-written tickets (10 per class), including most of the ambiguous ones.
# --------------------------------------------------------------------------
HANDWRITTEN = {
    "billing": [
        "Subject: Invoice INV-20931 shows wrong VAT number\n\nHello,\n\nThe VAT ID on our last invoice is wrong, it still shows the number from before our company moved. Our accountant cannot book it like this. Could you re-issue invoice INV-20931 with VAT ID DE294817365 and the company name 'Brightwater Studio GmbH'?\n\nThank you,\nKatrin Vogel\nFinance, Brightwater Studio",
        "why did my card get charged $49 on the 3rd?? i'm on the starter plan which is $19. nobody told me about a price change",
        "Subject: Charged after cancelling\n\nI cancelled my Team plan on March 2 (I have the confirmation email) but I was still billed $79 on March 14. I don't want to argue, I just want to understand why the charge happened and make sure it doesn't happen again next month. If it was a mistake on your end, fine, just fix it.\n\nRob",
        "Hi, we'd like to switch from monthly to annual billing for our Business plan. Is there a way to do that mid-cycle and get the remaining days prorated? Also it would be great if the annual option showed up in the dashboard, I couldn't find it anywhere.\n\nThanks,\nSelin",
        "Can you update the card on file for me? The old Visa ending 4412 expired. I tried in Settings > Billing but the page just spins forever. - Dev",
        "Dear Sir/Madam,\n\nPlease kindly send to me the receipt for my order NW-55120 with my company name on it, because I need it for the reimbursement from my employer. Order was paid on 12 of February by PayPal.\n\nWith best regards,\nOluwaseun A.",
        "Subject: Plus membership auto-renewed\n\nYour Plus membership auto-renewed for another year at $59. I was pretty sure I'd turned auto-renew off back in the summer. Can you check what happened on your side? I'm not necessarily asking for the money back, I'd mostly like auto-renew to actually be off this time.",
        "Subject: Payment declined but bank says fine\n\nHi, trying to pay invoice INV-31877 for our Growth plan and it fails every time with 'Your card was declined'. Called the bank, they see no attempt at all. We don't want the account suspended over this. Is there another way to pay, e.g. bank transfer?\n\nMarco Bellini\nAccounts, Olive Grove Deli",
        "Hi there! Quick question: do you charge sales tax on Studio subscriptions for customers in Oregon? My invoice shows a tax line and I thought Oregon didn't have one. Thanks! Mia",
        "We were billed for 12 seats but there are only 9 active users in our Studio account. Please correct the seat count on the next invoice and let me know if you can credit the difference.\n\n-- \nPaul Hendricks\nOps Manager, Tidewater Ceramics",
    ],
    "technical_issue": [
        "Subject: Inventory sync stuck since update\n\nHi,\n\nSince the 4.2 update yesterday our Studio inventory sync is stuck at 'Syncing... 0%'. We have around 1,800 SKUs. Tried logging out and in, tried Chrome and Firefox, same result. The browser console says 'ERR_SYNC_TIMEOUT (code 504)'. This is blocking our morning orders, please escalate.\n\nThanks,\nGabriel\nKestrel Outdoor",
        "the app crashes every time i open the orders tab. iphone 13, ios 17.4. reinstalled twice already",
        "I can log in fine but right after that the dashboard is blank, just a white page. Happens on my laptop in Edge but not on my phone. Is my account broken or is it your site?",
        "Subject: Invoice PDF download not working\n\nWhen I click 'Download PDF' on any invoice in the billing section I get a 404 page. I need these for my tax return so please fix it soon.\n\nRegards,\nHelen Markham",
        "Hello,\n\nThe barcode scanner in the Studio Android app doesn't focus on labels anymore, it was working fine last week. Phone is a Samsung Galaxy A54, app is up to date.\n\nKind regards,\nTomasz",
        "The export to CSV gives me a file where all the accents are broken (é becomes Ã©, ñ becomes Ã±). Is this a bug? If it's not, could you add an option to choose UTF-8? Thanks",
        "Your checkout keeps throwing 'Something went wrong (ref 7f3a-22)' when I press Place order. Tried 3 different cards!! I really want to buy the Juniper standing desk before the sale ends tonight.",
        "Subject: Webhooks not delivered\n\nWebhooks to our endpoint stopped arriving around 14:00 UTC on the 9th. Our server logs show no incoming requests at all, but the webhook log in Studio says 'delivered' for each event. Can someone check on your side? Endpoint is https://hooks.example-shop.test/nw\n\n- Ines, Copperleaf Studio",
        "Hi team, the Halcyon headphones I bought won't pair with my laptop anymore after the firmware update from your companion app. They still work with my phone. Any fix for this? - Rafael",
        "two factor codes from the authenticator are always rejected, says 'invalid code'. I checked the phone time is correct. I'm still logged in on my desktop so I'm not locked out yet, but something is clearly wrong with your 2FA",
    ],
    "account_access": [
        "Subject: Locked out after too many attempts\n\nI typed my password wrong a few times and now it says my account is locked for 24 hours. I need to get in today to print shipping labels for a big order. Can you unlock it please? Account email: j.okafor@example.com\n\nJoy",
        "password reset email never arrives. checked spam. tried 5 times. help",
        "I lost my phone with the authenticator app on it and now I can't log in. I have the backup codes somewhere at home but not with me. Also please make sure nobody else can get into my account, there's a card saved on it.",
        "Hello,\n\nI am the new owner of the shop 'Pinecone Prints' since the previous owner left the company. Her email is not active anymore so we can not reset the password. How we can transfer the account to my email? I can send documents for proving.\n\nThank you,\nAna Lucía",
        "My employee left yesterday and I need to remove her access to Studio right away. I don't see a 'remove user' button anywhere, only 'deactivate', which is greyed out. Please help ASAP.",
        "Can you change the email address on my account? I no longer have access to my old work email (m.chen@oldco.example). The new one is mei.chen@example.net. Thanks!",
        "Subject: Login loop\n\nEvery time I sign in I get sent straight back to the login page. Cleared cookies, tried incognito, tried my husband's laptop. I can't get into my account to check on order NW-60214 which was supposed to arrive yesterday.",
        "Someone changed the password on my account and placed an order I didn't make (NW-59902)!! I can't log in anymore. Please lock the account and cancel that order.",
        "Hi, I signed up with Google login and now I want to use a normal email + password instead. How do I set a password? Thanks, Leo",
        "I never created an account with you but I keep getting 'Welcome to Northwind' emails and 'verify your login' codes. Can you delete whatever account is registered with my email address? It's not me.",
    ],
    "shipping_delivery": [
        "Subject: Where is my order NW-48213?\n\nHi,\n\nI ordered on the 2nd and paid extra for express shipping. Six days later the tracking still says 'Label created'. Has it even left your warehouse? I'd like an actual answer this time please, not the automatic email.\n\nSusan Prior",
        "package says delivered, it's not here. checked with the neighbours. order NW-51877",
        "The box for my order NW-50410 arrived completely crushed and the mug set inside is in pieces. Honestly I'm more annoyed than anything. Can you just send a replacement? I don't need the money back, I need the mugs before my sister's birthday on Saturday.",
        "Hello,\n\nIs it possible to change the delivery address for order NW-53321? I moved last week and forgot to update it. The new address is in the same city.\n\nThank you very much!\nGreta",
        "Do you ship to Canada? How long does it usually take? I'm looking at the Alder desk lamp.",
        "I was charged $14.95 for shipping on order NW-49987 even though I'm a Plus member. Honestly the fee I can live with, but it's been 9 days and the package still isn't here. Where is it?",
        "Received only 1 of the 2 items in order NW-52266, the Cobalt backpack is missing. The packing slip lists both. Was it sent separately?",
        "Dear Northwind,\n\nmy parcel is being held at customs and ParcelLine asks me to pay import fees of 38 EUR. Your website said duties are included. Who is going to pay this? Otherwise I will not accept the parcel.\n\nRegards,\nH. Lindqvist",
        "ETA on NW-57004? Need it by Friday.",
        "Hi, the courier left my package at the wrong house again (number 14 instead of 41). This is the third time. Could you please add a note for the driver or use a different carrier? Thanks, Brian",
    ],
    "refund_request": [
        "Subject: Refund for returned keyboard\n\nHello,\n\nI returned the Quill mechanical keyboard on the 5th (return RMA-20817). Tracking shows your warehouse received it on the 9th, but I still haven't got my refund and it's been two weeks. Please process it.\n\nThanks,\nAlan Reyes",
        "I want my money back. The skillet was cracked right out of the box. Order NW-44519.",
        "I was charged twice for order NW-56310, there are two identical charges of $89.00 on my card statement. Please refund the duplicate one.",
        "Hi, I downgraded from Business to Starter two weeks into the billing cycle. Since I'm not using any of the Business features anymore, can I get the unused part of the month back? Thanks, Noor",
        "Hello, I would like to request a refund for the standing desk. It does not fit in my room, I measured wrong, sorry. It is still in the original box never opened. What I have to do for sending it back?\n\nBest,\nDmitri",
        "The package never arrived. Tracking has said 'in transit' for 3 weeks and the carrier now says it's lost. At this point I just want a refund, not a replacement. Order NW-47750.",
        "Forgot to cancel my free trial and got billed $29 for Studio Team. I haven't used it at all since the trial ended, haven't even logged in. Is a refund possible?",
        "Subject: refund??\n\nreturned the stuff a month ago. still no refund. this is the third email. answer me.",
        "Hi Northwind team, I'd like to cancel order NW-58812 and get a refund. I ordered the wrong colour of the Marlow throw (grey instead of sage). It hasn't shipped yet according to my account. Thanks! Priya",
        "Subject: Enterprise contract cancellation\n\nWe are cancelling our Enterprise contract effective the end of this month (our procurement team gave notice on the 1st). We paid annually in advance, so please confirm the pro-rated refund for the remaining 7 months and where it will be sent. Please also export our data before the account is closed.\n\nRegards,\nFrancesca Moretti\nHead of Operations, Lanterna Home",
    ],
    "feature_request": [
        "Subject: Suggestion: dark mode\n\nLove the Studio app, but staring at the white dashboard at 11pm is painful. Any chance of a dark mode? Even a simple one would be great.\n\nCheers,\nJules",
        "would be nice if i could save more than one shipping address",
        "The reports page only lets me pick date ranges of up to 90 days. I need to pull a full year for my accountant. Is this a bug or a limit? If it's a limit, please consider raising it.",
        "It's really annoying that I have to log in again every single day. Could you add a 'remember me' option, or let us stay logged in longer? I'm the only one using this computer.",
        "Hello,\n\nOur team would love an integration with our accounting software (it's a small local one, but it supports importing invoices over an API). Do you have plans for a public API for invoices?\n\nRegards,\nSven Andersen\nNordlys Crafts",
        "Could you make it possible to pay invoices by bank transfer (SEPA) instead of card? Our company policy doesn't allow card payments for subscriptions, so right now I pay with my personal card and expense it every month.",
        "Please please add a wishlist that I can share with my family. Christmas shopping would be so much easier!!",
        "Hi, a suggestion for the mobile app: let us scan a barcode to search products in the catalogue. It would save a lot of time in the store room. Thanks, Kenji",
        "When a customer orders, the tracking email goes out from the carrier with no branding at all. Can we customise it with our logo and our own text? Many of our customers think it's spam and ignore it.",
        "It would be great if Studio supported multiple currencies in one store. We sell to the UK and the EU and currently need two separate accounts. Happy to beta test if you build it!",
    ],
}


# --------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------
def add_typos(text: str, rng: random.Random, n: int) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 5]
    for i in rng.sample(idx, min(n, len(idx))):
        w = words[i]
        j = rng.randint(1, len(w) - 3)
        if rng.random() < 0.6:  # swap two adjacent letters
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        else:  # drop a letter
            w = w[:j] + w[j + 1:]
        words[i] = w
    return " ".join(words)


def parse(frag: str) -> tuple[str, str, list[str]]:
    """'[tag]text || Subject A || Subject B' -> (text, tag, [subjects])."""
    tg = ""
    if frag.startswith("["):
        tg, frag = frag[1:].split("]", 1)
    text, *subjects = frag.split(" || ")
    return text, tg, subjects


def compose(label: str, rng: random.Random) -> str:
    fr = FRAG[label]
    s = make_slots(rng)
    if label == "feature_request":
        feat, short = rng.choice(fr["features"])
        s["feature"], s["feature_short"] = feat, short

    style = rng.choices(["terse", "normal", "angry", "polite", "rambling"],
                        weights=[16, 38, 16, 18, 12])[0]
    problem, tg, own_subjects = parse(rng.choice(fr["problems"]))
    ok = lambda frag: not frag.startswith("[") or frag.startswith("[" + tg + "]")
    body = [problem]
    if style != "terse":
        details = [parse(d)[0] for d in fr["details"] if ok(d)]
        k = rng.choice([1, 1, 2, 2] if style != "rambling" else [2, 3])
        body += rng.sample(details, min(k, len(details)))
    if style == "rambling":
        body.insert(rng.randint(0, len(body)), rng.choice([
            "I've been using Northwind for a while and mostly it's been great.",
            "I'm not very technical so bear with me.",
            "My partner told me to just email you so here I am.",
            "We're a small shop and this is the busiest time of year for us.",
            "I also tried the chat but it kept disconnecting.",
        ]))
    if style == "angry":
        body += rng.sample(ANGRY, rng.choice([1, 2]))
    if rng.random() < 0.09:  # secondary topic mentioned in passing
        other = rng.choice([lab for lab in LABELS if lab != label])
        body.insert(rng.randint(1, len(body)), rng.choice(ASIDES[other]))
    body.append(parse(rng.choice([a for a in fr["asks"] if ok(a)]))[0])
    if style == "polite":
        body.append(rng.choice(POLITE))

    parts = []
    if rng.random() < (0.55 if style == "terse" else 0.75):
        pool = own_subjects if own_subjects and rng.random() < 0.7 else fr["subjects"]
        parts.append("Subject: " + rng.choice(pool))
        parts.append("")
    greet = style != "terse" and rng.random() < 0.8
    if greet:
        parts.append(rng.choice(GREETINGS))
        if rng.random() < 0.6:
            parts.append("")
        if style in ("polite", "rambling", "normal") and rng.random() < 0.35:
            body.insert(0, rng.choice(OPENERS))
    text_body = " ".join(body)
    if len(body) >= 4 and rng.random() < 0.5:  # split into two paragraphs
        k = rng.randint(2, len(body) - 1)
        text_body = " ".join(body[:k]) + "\n\n" + " ".join(body[k:])
    if style in ("terse", "angry") and rng.random() < 0.2:
        text_body = text_body.lower()
    if rng.random() < 0.25:
        text_body = add_typos(text_body, rng, rng.choice([1, 1, 2]))
    parts.append(text_body)

    if style != "terse" and rng.random() < 0.75:
        parts.append("")
        sig = rng.choice(CLOSINGS)
        r = rng.random()
        if r < 0.45:
            sig += "\n" + s["first"]
        elif r < 0.75:
            sig += "\n" + s["first"] + " " + s["last"]
        elif r < 0.9:
            sig += "\n" + s["first"] + " " + s["last"] + "\n" + s["shop"]
        parts.append(sig)
    elif style == "terse" and rng.random() < 0.3:
        parts[-1] += rng.choice([" - ", "\n", " thx, "]) + s["first"]
    extra = rng.choice(SIGNOFF_EXTRA)
    if extra and rng.random() < 0.5:
        parts.append("")
        parts.append(extra)

    text = "\n".join(parts).strip()
    return text.format_map(s)


def build() -> list[dict]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    rows = []
    for label in LABELS:
        hand = HANDWRITTEN[label]
        for t in hand:
            assert t not in seen
            seen.add(t)
            rows.append({"text": t, "label": label})
        need = PER_CLASS - len(hand)
        while need:
            t = compose(label, rng)
            # reject exact duplicates and near-duplicates (same first 60 chars of body)
            key = t.split("\n\n", 1)[-1][:60].lower()
            if t in seen or key in seen:
                continue
            seen.add(t)
            seen.add(key)
            rows.append({"text": t, "label": label})
            need -= 1
    rng.shuffle(rows)
    return [{"id": f"T{i:04d}", "text": r["text"], "label": r["label"]} for i, r in enumerate(rows, 1)]


def main(out: Path = OUT) -> None:
    rows = build()
    with Path(out).open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} tickets to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
