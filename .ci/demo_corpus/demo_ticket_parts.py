"""The Northwind Goods demo tickets' slot values, framing sentences and hand-written tickets (read by
make_demo_tickets.py).

Every sentence and ticket was written for this project; all names, companies, emails and numbers are fictional.
"""

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
