<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nl">
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation>Overzicht</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnementen</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturen</translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation>Gebruikers en licenties</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation>Betalingsmethoden</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Activiteit</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-mails</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation>Niet-opgeslagen wijzigingen</translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation>De wijzigingen in account {account} zijn niet opgeslagen. Wilt u ze verwerpen?</translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation>Te betalen: {amount}</translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation>Niets te betalen</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Accounttegoed: {amount}</translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation>Account {account}, {company}</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Accounts</translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation>Terug naar de accountlijst (Alt+Pijl-links)</translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation>Terug naar de accountlijst</translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation>Alt+{number}</translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation>Accounttabbladen</translation>
    </message>
</context>
<context>
    <name>AccountsTableModel</name>
    <message>
        <source>Standard</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Standaard</translation>
    </message>
    <message>
        <source>Corporate</source>
        <translation>Corporate</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actief</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Verlopen</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Gesloten</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Achterstallig</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>Account-ID</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Land</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Vertegenwoordiger</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnementen</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>Saldo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Subscriptions in trial, active or pending cancellation</source>
        <translation>Abonnementen in proefperiode, actief of met annulering in behandeling</translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation>Te betalen bedrag op openstaande facturen</translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation>Achterstallig: een openstaande factuur is over de vervaldatum</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation>Alle landen</translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation>Accounts exporteren</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV-bestanden (*.csv)</translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation>De accounts worden naar {file} geschreven…</translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n account geëxporteerd.</numerusform>
            <numerusform>%n accounts geëxporteerd.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln account</numerusform>
            <numerusform>%Ln accounts</numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation>Geen accounts voldoen aan het filter.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Alle filters wissen</translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation>Deze database heeft nog geen accounts.</translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation>Accounts verschijnen hier zodra ze zijn aangemaakt of geïmporteerd.</translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation>Bekijk in plaats daarvan de demodatabase</translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation>Filteren op account-ID of bedrijfsnaam</translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation>Typ een deel van een bedrijfsnaam of het begin van een account-ID (Ctrl+F)</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Alle typen</translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation>Alleen accounts van dit type tonen</translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation>Alleen accounts in dit land tonen</translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation>Alle vertegenwoordigers</translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation>Mijn accounts</translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation>Alleen de accounts van deze vertegenwoordiger tonen</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>CSV e&amp;xporteren…</translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation>De accounts van het huidige filter, in de huidige volgorde, opslaan als CSV-bestand</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>Alleen achterstallig</translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation>Alleen accounts met een factuur over de vervaldatum tonen</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Accounts</translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Wanneer</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Medewerker</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Actie</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Aangevraagd door</translation>
    </message>
    <message>
        <source>System</source>
        <extracomment>A page could not be read (the account was deleted meanwhile, …).</extracomment>
        <translation>Systeem</translation>
    </message>
</context>
<context>
    <name>ActivityTab</name>
    <message>
        <source>Licences assigned</source>
        <extracomment>Translation context of the constant words below. What each audit action means, in words (the codes the services write).</extracomment>
        <translation>Licenties toegewezen</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licenties ingetrokken</translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation>Winkelwagen gewijzigd</translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation>Winkelwagen geleegd</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Bestelling geplaatst</translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation>Nieuw abonnement</translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation>Abonnement gewijzigd</translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation>Abonnement naar lager plan</translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation>Abonnement verlengd</translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation>Factuurperiode doorgeschoven</translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation>Contracttermijn verlengd</translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation>Abonnement beëindigd</translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation>Proefperiode verlopen</translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation>Abonnement online geannuleerd</translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation>Abonnement geannuleerd door support</translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation>Add-on geannuleerd</translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation>Abonnement opnieuw geactiveerd</translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation>Verificatie van beller</translation>
    </message>
    <message>
        <source>Caller verification failed repeatedly</source>
        <translation>Verificatie van beller herhaaldelijk mislukt</translation>
    </message>
    <message>
        <source>Operator name changed</source>
        <translation>Naam van medewerker gewijzigd</translation>
    </message>
    <message>
        <source>Accounts list exported</source>
        <translation>Accountlijst geëxporteerd</translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation>Melding einde proefperiode verzonden</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Gegevens gemarkeerd voor verwijdering</translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation>Automatische betaling gewijzigd</translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation>Btw-nummer gewijzigd</translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation>Accountgegevens geëxporteerd</translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation>Factuurontvangers gewijzigd</translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation>Accountdetails gewijzigd</translation>
    </message>
    <message>
        <source>Representative changed</source>
        <translation>Vertegenwoordiger gewijzigd</translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation>Betalingsmethode toegevoegd</translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation>Betalingsmethode verwijderd</translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation>Standaardbetalingsmethode gewijzigd</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Betaling geregistreerd</translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation>Factuur betwist</translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation>Factuur ongeldig gemaakt</translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation>Contactpersonen met een licentie</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation>Wordt automatisch verlengd</translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation>Annulering aangevraagd</translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation>Ingangsdatum annulering</translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation>Reden van annulering</translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation>Opgegeven reden</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Actief tot</translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation>Maanden nog gefactureerd</translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation>Bedrag nog gefactureerd</translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation>Extra kosten</translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation>Verlengd</translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation>Gegevens verwijderd op</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenties</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Factureringsfrequentie</translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation>Gekocht via</translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation>Ankerdatum facturering</translation>
    </message>
    <message>
        <source>Period start</source>
        <translation>Begin periode</translation>
    </message>
    <message>
        <source>Period end</source>
        <translation>Einde periode</translation>
    </message>
    <message>
        <source>Term start</source>
        <translation>Begin looptijd</translation>
    </message>
    <message>
        <source>Term end</source>
        <translation>Einde looptijd</translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation>Looptijd in maanden</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Proefperiode eindigt</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Beëindigd op</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Add-ons</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Add-on</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actief</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Eindigt op</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Automatische betaling</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Btw-nummer</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Vertegenwoordiger</translation>
    </message>
    <message>
        <source>Account type</source>
        <translation>Accounttype</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adres</translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation>Adres (tweede regel)</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Postcode</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Plaats</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Regio</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Land</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Taal</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Valuta</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Soort</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Merk</translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation>Laatste vier cijfers</translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation>Vervalmaand</translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation>Vervaljaar</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Houder</translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation>Land van de bank</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Standaard</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Standaardbetalingsmethode</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Samenvatting</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Geverifieerd</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>Openstaand</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Accounttegoed</translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation>Proefperiode</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Proefperiode beëindigd</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulering in behandeling</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Geannuleerd</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Verlopen</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Maandelijks</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Jaarlijks</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Ja</translation>
    </message>
    <message>
        <source>No</source>
        <translation>Nee</translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation>Selecteer een item om te zien wat er is gewijzigd.</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Systeem</translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation>{when} door {operator}</translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation>Product: {product}</translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation>Aangevraagd door {contact}</translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation>Er zijn geen waarden gewijzigd.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Veld</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Voor</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Na</translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation>Er is nog niets gewijzigd aan dit account.</translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation>Activiteit van het account</translation>
    </message>
    <message>
        <source>What changed</source>
        <translation>Wat er is gewijzigd</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>Billing Desktop</source>
        <extracomment>contexts the lower layers mark their messages with, most specific first</extracomment>
        <translation>Billing Desktop</translation>
    </message>
    <message>
        <source>“{location}” is neither a database file nor a server address.</source>
        <extracomment>customer emails in the account&apos;s language, for every database opened</extracomment>
        <translation>“{location}” is geen databasebestand en ook geen serveradres.</translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Done</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation>Voldaan</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Nog niet</translation>
    </message>
    <message>
        <source>Month to month, billed monthly</source>
        <translation>Maandelijks opzegbaar, maandelijks gefactureerd</translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation>Maandelijks opzegbaar, jaarlijks gefactureerd</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation>Vaste looptijd van {months} maanden, maandelijks gefactureerd</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation>Vaste looptijd van {months} maanden, jaarlijks gefactureerd</translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation>De contactpersoon voor facturering kan {product} online annuleren: gebruik Abonnement annuleren op de kaart van het product.</translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation>Er kan op dit account op dit moment niets worden geannuleerd.</translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation>Begeleide annulering – {account}</translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation>Bezig met annuleren…</translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation>{product} annuleren?</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenties</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Factureringsfrequentie</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation>Een gratis proefperiode zonder factuurgegevens verloopt gewoon aan het einde van de proefperiode, op {date}, zonder kosten en zonder dat er iets hoeft te gebeuren. Door nu te annuleren wordt alleen de reden vastgelegd.</translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation>De overeenkomst loopt tot {date}: voor de resterende maanden wordt nog {amount} gefactureerd. Er wordt niets terugbetaald.</translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation>De huidige factuurperiode is al betaald en wordt niet terugbetaald; er wordt niets meer gefactureerd. De gegevens worden bewaard tot {deletion} en daarna verwijderd.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation>Dit abonnement kan hier niet worden geannuleerd.</translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation>Controleer wat er gebeurt, geef een reden op en bevestig met Ja, annuleren.</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Proefperiode eindigt op</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Automatische verlenging</translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation>Geen: een proefperiode wordt nooit in rekening gebracht</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Actief tot</translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation>Uitgeschakeld: het plan wordt na {date} niet verlengd</translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation>Wat is de reden van de annulering?</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Aangevraagd door:</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Reden:</translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation>Toe&amp;lichting:</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>Kies een reden</translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation>Aanvullende opmerkingen van de klant (optioneel; maximaal {maximum} tekens)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reden</translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation>Toelichting bij de reden</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Aangevraagd door</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation>{name} &lt;{email}&gt; (contactpersoon facturering)</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation>Begeleide annulering &amp;starten…</translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation>Het is te duur</translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation>Er ontbreken functies die we nodig hebben</translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation>We stappen over naar een andere leverancier</translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation>We hebben het niet meer nodig</translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation>Het was een tijdelijk project</translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation>Technische problemen</translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation>Anders (graag toelichten)</translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation>Annulering bevestigd</translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation>Automatische verlenging is uitgeschakeld. Klik op Sluiten om af te ronden.</translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation>De proefperiode van {product} eindigt op {date}, zonder kosten.</translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation>Uw abonnement op {product} verloopt op {date}.</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulering in behandeling</translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation>Verzonden naar {email}</translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation>Verzonden naar de contactpersoon voor facturering</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Proefperiode eindigt op</translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation>Verloopt op</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Automatische verlenging</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Uit</translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation>Bevestigingsmail</translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation>Als u van gedachten verandert, kiest u vóór {date} Opnieuw activeren in het optiemenu van het abonnement.</translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation>&amp;Facturen openen</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation>{product} kan niet online worden geannuleerd. Neem contact op met support om te annuleren.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation>Dit abonnement kan nu niet worden geannuleerd.</translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation>Abonnement annuleren: {product}</translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation>Abonnement annuleren</translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation>&amp;Ja, annuleren</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation>&amp;Niet annuleren</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Sluiten</translation>
    </message>
</context>
<context>
    <name>CancellationsModel</name>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Eindigt op</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Bedrag</translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation>Winkelwagen</translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation>Alles in de winkelwagen wordt afgerekend als één bestelling met één factuur.</translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation>Controleer de producten in uw winkelwagen. Selecteer een product en klik op Uit winkelwagen verwijderen om het te verwijderen.</translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation>&amp;Uit winkelwagen verwijderen</translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation>Producten in de winkelwagen</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Af&amp;rekenen</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>Attended and unattended remote support for help desks (previous generation).</source>
        <translation>Bemande en onbemande ondersteuning op afstand voor helpdesks (vorige generatie).</translation>
    </message>
    <message>
        <source>Mobile device support</source>
        <translation>Ondersteuning voor mobiele apparaten</translation>
    </message>
    <message>
        <source>Camera share</source>
        <translation>Camera delen</translation>
    </message>
    <message>
        <source>Additional storage (100 GB)</source>
        <translation>Extra opslag (100 GB)</translation>
    </message>
    <message>
        <source>Remote support with a service desk, for technicians of any team size.</source>
        <translation>Ondersteuning op afstand met een servicedesk, voor technici in teams van elke omvang.</translation>
    </message>
    <message>
        <source>Remote monitoring, management and support for IT teams and managed service providers.</source>
        <translation>Monitoring, beheer en ondersteuning op afstand voor IT-teams en managed service providers.</translation>
    </message>
    <message>
        <source>Third-party patch management</source>
        <translation>Patchbeheer voor software van derden</translation>
    </message>
    <message>
        <source>Mobile device management</source>
        <translation>Beheer van mobiele apparaten</translation>
    </message>
    <message>
        <source>Additional storage (250 GB)</source>
        <translation>Extra opslag (250 GB)</translation>
    </message>
    <message>
        <source>Cloud phone system with video meetings, messaging and a contact centre option.</source>
        <translation>Telefonie in de cloud met videovergaderingen, berichten en optioneel een contactcenter.</translation>
    </message>
    <message>
        <source>Contact center</source>
        <translation>Contactcenter</translation>
    </message>
    <message>
        <source>Call recording storage</source>
        <translation>Opslag voor gespreksopnamen</translation>
    </message>
    <message>
        <source>Online meetings and video conferencing.</source>
        <translation>Online vergaderen en videoconferenties.</translation>
    </message>
    <message>
        <source>Additional cloud storage</source>
        <translation>Extra cloudopslag</translation>
    </message>
    <message>
        <source>Conference room connector</source>
        <translation>Connector voor vergaderruimtes</translation>
    </message>
    <message>
        <source>Webinars and virtual events with registration, polls and analytics.</source>
        <translation>Webinars en virtuele evenementen met registratie, peilingen en analyses.</translation>
    </message>
    <message>
        <source>Webinar recording storage</source>
        <translation>Opslag voor webinaropnamen</translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation>De gegevens van het account zijn geëxporteerd naar {path}.</translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation>De standaardkaart is verlopen; voeg eerst een nieuwe kaart toe of stel een andere methode in als standaard.</translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation>{contract}.</translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation>De overeenkomst loopt van {start} tot {end}.</translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation>De opzegtermijn van 30 dagen is op {deadline} verstreken: de overeenkomst wordt nog één keer verlengd voordat deze afloopt.</translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation>Bij annulering uiterlijk op {deadline} wordt de overeenkomst niet verlengd.</translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation>De huidige factuurperiode eindigt op {date}.</translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}:</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Een bankoverschrijving van {amount} voor account {account} registreren?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>{amount} in rekening brengen op {method} voor account {account}?</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Saldo betalen</translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation>Dit gebeurt direct, vóór de annulering: de openstaande facturen worden betaald, de oudste eerst, en de klant ontvangt per e-mail een betalingsbevestiging.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>{amount} &amp;betalen</translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation>{amount} is ontvangen via {method}; de klant heeft een e-mail ontvangen.</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Alles intrekken</translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>De %n licentie van {products} intrekken bij de gebruiker?</numerusform>
            <numerusform>Alle %n licenties van {products} intrekken bij hun gebruikers?</numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation>Dit gebeurt direct, vóór de annulering: deze gebruikers kunnen het product niet meer gebruiken.</translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation>Alles &amp;intrekken</translation>
    </message>
    <message>
        <source>Nothing was unassigned. The checklist now shows the current data: check it and press Unassign all again if needed.</source>
        <translation>Er is niets ingetrokken. De checklist toont nu de actuele gegevens: controleer deze en klik zo nodig opnieuw op Alles intrekken.</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>%n licentie is ingetrokken.</numerusform>
            <numerusform>%n licenties zijn ingetrokken.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation>Accountgegevens exporteren</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Zip-archieven (*.zip)</translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation>De gegevens van het account worden gelezen…</translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation>Het archief wordt geschreven…</translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation>De gegevens van het account worden geëxporteerd…</translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation>De gegevens van het account zijn geëxporteerd.</translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation>Voordat u annuleert</translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation>Stap 3 van 6: aan elk punt moet zijn voldaan voordat de annulering kan doorgaan.</translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation>Elke knop hier voert na uw bevestiging direct één handeling uit: dat is de enige wijziging vóór de laatste knop Abonnementen annuleren. Elk punt wordt vanzelf afgevinkt zodra eraan is voldaan.</translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation>Saldo &amp;betalen…</translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation>Betalings&amp;methoden…</translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation>Alles &amp;intrekken…</translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation>Accountgegevens e&amp;xporteren…</translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation>De beller bevestigt dat er al een back-up van de gegevens is &amp;gemaakt</translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Monthly</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box)</extracomment>
        <translation>Maandelijks</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Jaarlijks</translation>
    </message>
    <message>
        <source>billed monthly</source>
        <extracomment>how a line is billed, as a whole phrase (never a lower-cased frequency word)</extracomment>
        <translation>maandelijks gefactureerd</translation>
    </message>
    <message>
        <source>billed annually</source>
        <translation>jaarlijks gefactureerd</translation>
    </message>
    <message>
        <source>{price} per licence per month</source>
        <extracomment>&quot;per licence per month|year&quot; for the price of a tier or an add-on</extracomment>
        <translation>{price} per licentie per maand</translation>
    </message>
    <message>
        <source>{price} per licence per year</source>
        <translation>{price} per licentie per jaar</translation>
    </message>
    <message>
        <source>{price} per month</source>
        <translation>{price} per maand</translation>
    </message>
    <message>
        <source>{price} per year</source>
        <translation>{price} per jaar</translation>
    </message>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) Place order met a conflict: another operator changed what the review shows (going back reads the data again) the Plan page; ``None`` when the wizard was opened from the cart the page shown before the current one (to tell Back from Next)</extracomment>
        <translation>Afrekenen — {company} ({account})</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Sluiten</translation>
    </message>
    <message>
        <source>subscribe to {plan}</source>
        <translation>nieuw abonnement op {plan}</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licentie (was {old})</numerusform>
            <numerusform>%n licenties (was {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licentie</numerusform>
            <numerusform>%n licenties</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}: {plan}, {licences}, {billing}</source>
        <translation>{product}: {plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>{line}; adds {addons}</source>
        <translation>{line}; voegt {addons} toe</translation>
    </message>
    <message>
        <source>Press Edit order to read the current data and review the order again.</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation>Klik op Bestelling wijzigen om de actuele gegevens te laden en de bestelling opnieuw te controleren.</translation>
    </message>
    <message>
        <source>{product} {old} → {new}</source>
        <translation>{product} {old} → {new}</translation>
    </message>
    <message>
        <source>{product} {plan}</source>
        <translation>{product} {plan}</translation>
    </message>
    <message>
        <source>Product:</source>
        <translation>Product:</translation>
    </message>
    <message>
        <source>Billing period:</source>
        <translation>Factuurperiode:</translation>
    </message>
    <message>
        <source>{period} (starts today, {billing})</source>
        <translation>{period} (vanaf vandaag, {billing})</translation>
    </message>
    <message>
        <source>{new} (was {old})</source>
        <translation>{new} (was {old})</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licenties:</translation>
    </message>
    <message>
        <source>Plan price:</source>
        <translation>Planprijs:</translation>
    </message>
    <message>
        <source>{description}:</source>
        <translation>{description}:</translation>
    </message>
    <message>
        <source>{quantity} × {price} = {amount}</source>
        <translation>{quantity} × {price} = {amount}</translation>
    </message>
    <message>
        <source>Proration credit:</source>
        <translation>Tegoed naar rato:</translation>
    </message>
    <message>
        <source>{amount} for {days} unused days ({period})</source>
        <translation>{amount} voor {days} ongebruikte dagen ({period})</translation>
    </message>
    <message>
        <source>Subtotal:</source>
        <translation>Subtotaal:</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>Btw:</translation>
    </message>
    <message>
        <source>{amount} — reverse charge (VAT number {number})</source>
        <translation>{amount} — btw verlegd (btw-nummer {number})</translation>
    </message>
    <message>
        <source>VAT ({rate}):</source>
        <translation>Btw ({rate}):</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Totaal:</translation>
    </message>
    <message>
        <source>Account credit applied:</source>
        <translation>Verrekend accounttegoed:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Nu te betalen:</translation>
    </message>
    <message>
        <source>Becomes account credit:</source>
        <translation>Naar accounttegoed:</translation>
    </message>
    <message>
        <source>Press Back to review the order again with the current data.</source>
        <translation>Klik op Terug om de bestelling opnieuw te controleren met de actuele gegevens.</translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message>
        <source>Simulated Clock</source>
        <extracomment>the upcoming-events panel&apos;s first height under the view (pixels) the clock moved (also after a cancelled move that did part of the way): the summary the upcoming-events panel refreshed after each move (set by ``install_clock_control``) the move running, if any the summary of the last move, while it is open why this operator may not move the clock (None: they may) View ▸ Simulated Clock (set by ``install_clock_control``) the result also after Cancel (the work&apos;s return value is dropped then)</extracomment>
        <translation>Gesimuleerde klok</translation>
    </message>
    <message>
        <source>Moving the clock to {date} and running what is due…</source>
        <translation>De klok wordt naar {date} vooruitgezet; wat aan de beurt is, wordt uitgevoerd…</translation>
    </message>
    <message>
        <source>Move the clock to the next renewal, trial end, cancellation end or term end.</source>
        <translation>De klok vooruitzetten naar de eerstvolgende verlenging of het eerstvolgende einde van een proefperiode, annulering of looptijd.</translation>
    </message>
    <message>
        <source>Nothing lies ahead: no renewal, trial end, cancellation or term end.</source>
        <translation>Er staat niets meer gepland: geen verlenging en geen einde van een proefperiode, annulering of looptijd.</translation>
    </message>
    <message>
        <source>Move to {date}: {product} of {company} renews.</source>
        <translation>Naar {date}: {product} bij {company} wordt verlengd.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} trial of {company} ends.</source>
        <translation>Naar {date}: de proefperiode van {product} bij {company} eindigt.</translation>
    </message>
    <message>
        <source>Move to {date}: the cancellation of {product} for {company} takes effect.</source>
        <translation>Naar {date}: de annulering van {product} bij {company} gaat in.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} contract term of {company} ends.</source>
        <translation>Naar {date}: de contracttermijn van {product} bij {company} eindigt.</translation>
    </message>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>En nog %n gebeurtenis op die dag.</numerusform>
            <numerusform>En nog %n gebeurtenissen op die dag.</numerusform>
        </translation>
    </message>
    <message>
        <source>+1 day</source>
        <translation>+1 dag</translation>
    </message>
    <message>
        <source>Move the simulated date one day forward and run what is due.</source>
        <translation>De gesimuleerde datum één dag vooruitzetten en uitvoeren wat aan de beurt is.</translation>
    </message>
    <message>
        <source>+1 month</source>
        <translation>+1 maand</translation>
    </message>
    <message>
        <source>Move the simulated date one month forward and run what is due.</source>
        <translation>De gesimuleerde datum één maand vooruitzetten en uitvoeren wat aan de beurt is.</translation>
    </message>
    <message>
        <source>To next event</source>
        <translation>Volgende gebeurtenis</translation>
    </message>
    <message>
        <source>To date…</source>
        <translation>Naar datum…</translation>
    </message>
    <message>
        <source>Pick a day after today: the simulated date moves there and runs what is due.</source>
        <translation>Kies een dag na vandaag: de gesimuleerde datum gaat daarnaartoe en wat aan de beurt is, wordt uitgevoerd.</translation>
    </message>
    <message>
        <source>Day to move the clock to</source>
        <translation>Dag waarnaar de klok wordt verzet</translation>
    </message>
    <message>
        <source>The simulated clock of this demo database: it only moves forward.</source>
        <translation>De gesimuleerde klok van deze demodatabase: deze gaat alleen vooruit.</translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message>
        <source>Renewal invoice</source>
        <extracomment>the tree&apos;s item role holding the account id of a line (None on group titles) lines listed per group; a long move on a large demo lists the first ones and a count</extracomment>
        <translation>Verlengingsfactuur</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Proefperiode eindigt binnenkort</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Proefperiode beëindigd</translation>
    </message>
    <message>
        <source>{product} renewed for its last period</source>
        <translation>{product} verlengd voor de laatste periode</translation>
    </message>
    <message>
        <source>{product} renewed until {date}</source>
        <translation>{product} verlengd tot {date}</translation>
    </message>
    <message>
        <source>The {product} trial ended without a purchase</source>
        <translation>Proefperiode van {product} zonder aankoop beëindigd</translation>
    </message>
    <message>
        <source>{product} ended: its cancellation took effect</source>
        <translation>{product} beëindigd: de annulering is ingegaan</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, paid</source>
        <translation>Factuur {number} voor {product}: {amount}, betaald</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, open</source>
        <translation>Factuur {number} voor {product}: {amount}, open</translation>
    </message>
    <message>
        <source>“{email}” email about {product} to {address}</source>
        <translation>E-mail “{email}” over {product} aan {address}</translation>
    </message>
    <message>
        <source>“{email}” email about {product}</source>
        <translation>E-mail “{email}” over {product}</translation>
    </message>
    <message>
        <source>{product} term renewed until {date}</source>
        <translation>Contracttermijn van {product} verlengd tot {date}</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n factuur achterstallig geworden</numerusform>
            <numerusform>%n facturen achterstallig geworden</numerusform>
        </translation>
    </message>
    <message>
        <source>The data of {product} was marked for deletion</source>
        <translation>Gegevens van {product} gemarkeerd voor verwijdering</translation>
    </message>
    <message>
        <source>Double-click or press Enter to open {company}</source>
        <extracomment>a line was activated (double-click or Enter): the account&apos;s id</extracomment>
        <translation>Dubbelklik of druk op Enter om {company} te openen</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… en nog %n</numerusform>
            <numerusform>… en nog %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>%n gebeurtenis is mislukt en wordt opnieuw geprobeerd</numerusform>
            <numerusform>%n gebeurtenissen zijn mislukt en worden opnieuw geprobeerd</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n abonnement verlengd</numerusform>
            <numerusform>%n abonnementen verlengd</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n proefperiode verlopen</numerusform>
            <numerusform>%n proefperioden verlopen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n abonnement beëindigd na annulering</numerusform>
            <numerusform>%n abonnementen beëindigd na annulering</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n factuur uitgegeven, in totaal {total}</numerusform>
            <numerusform>%n facturen uitgegeven, in totaal {total}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n e-mail in de wachtrij voor de klanten</numerusform>
            <numerusform>%n e-mails in de wachtrij voor de klanten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n contracttermijn verlengd</numerusform>
            <numerusform>%n contracttermijnen verlengd</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n abonnement gemarkeerd voor verwijdering van gegevens</numerusform>
            <numerusform>%n abonnementen gemarkeerd voor verwijdering van gegevens</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled: the clock stopped on {date} instead of {requested}. What happened until then is kept.</source>
        <translation>Geannuleerd: de klok is gestopt op {date} in plaats van {requested}. Wat tot dan is gebeurd, blijft behouden.</translation>
    </message>
    <message>
        <source>The clock moved from {start} to {end}.</source>
        <translation>De klok is verzet van {start} naar {end}.</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>Wat er is gebeurd</translation>
    </message>
    <message>
        <source>Nothing was due between {start} and {end}.</source>
        <translation>Tussen {start} en {end} was er niets aan de beurt.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n gebeurtenis verwerkt.</numerusform>
            <numerusform>%n gebeurtenissen verwerkt.</numerusform>
        </translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>What happened, by kind</source>
        <translation>Wat er is gebeurd, per soort</translation>
    </message>
    <message>
        <source>Double-click a line, or select it and press Enter, to open its account.</source>
        <translation>Dubbelklik op een regel, of selecteer deze en druk op Enter, om het account te openen.</translation>
    </message>
</context>
<context>
    <name>ConfirmPage</name>
    <message>
        <source>Account:</source>
        <translation>Account:</translation>
    </message>
    <message>
        <source>{account}, {company}</source>
        <translation>{account}, {company}</translation>
    </message>
    <message>
        <source>Requested by:</source>
        <translation>Aangevraagd door:</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation>Beller geverifieerd:</translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation>nu geannuleerd, actief tot {date}</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Nog gefactureerd:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Nu gefactureerd:</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Niets</translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation>Bevestigingsmail naar:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation>Annulering bevestigen</translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation>Stap 6 van 6: er wordt niets geannuleerd totdat u op Abonnementen annuleren klikt.</translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation>Abonnementen &amp;annuleren</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Reden:</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>Toe&amp;lichting:</translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation>Wat de beller zei (verplicht bij Anders)</translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation>Kies een reden…</translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation>Superbeheerder</translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation>Factureringsbeheerder</translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation>Productbeheerder</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Gebruiker</translation>
    </message>
</context>
<context>
    <name>CorporateAccountsModel</name>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Vertegenwoordiger</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Geen</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Unexpected error</source>
        <extracomment>After the window is shown: open the log file, then warm up the write path. How long the exit waits for background reads before closing the database.</extracomment>
        <translation>Onverwachte fout</translation>
    </message>
    <message>
        <source>Billing Desktop ran into an unexpected error.</source>
        <translation>Er is een onverwachte fout opgetreden in Billing Desktop.</translation>
    </message>
    <message>
        <source>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>De details zijn vastgelegd in {path}. Er is niets half opgeslagen: elke wijziging wordt volledig of helemaal niet doorgevoerd. U kunt verder werken, of afsluiten en opnieuw starten.</translation>
    </message>
    <message>
        <source>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Er is niets half opgeslagen: elke wijziging wordt volledig of helemaal niet doorgevoerd. U kunt verder werken, of afsluiten en opnieuw starten.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Afsluiten</translation>
    </message>
</context>
<context>
    <name>CustomerCardWidget</name>
    <message>
        <source>✓ {action}</source>
        <translation>✓ {action}</translation>
    </message>
    <message>
        <source>✗ {action}</source>
        <translation>✗ {action}</translation>
    </message>
    <message>
        <source>✗ {action}: {reason}</source>
        <translation>✗ {action}: {reason}</translation>
    </message>
    <message>
        <source>✗ Lower plan: {reason}</source>
        <translation>✗ Lager plan: {reason}</translation>
    </message>
    <message>
        <source>In the Billing Center</source>
        <translation>In het Billing Center</translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message>
        <source>Open an account to see its Billing Center as the customer sees it.</source>
        <extracomment>the view was read again and what it shows changed the contact shown as; ``None`` = the account&apos;s billing contact</extracomment>
        <translation>Open een account om het Billing Center te zien zoals de klant het ziet.</translation>
    </message>
    <message>
        <source>{company} ({account})</source>
        <translation>{company} ({account})</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>✓ {product}: can be bought</source>
        <translation>✓ {product}: kan worden gekocht</translation>
    </message>
    <message>
        <source>✗ {product}</source>
        <translation>✗ {product}</translation>
    </message>
    <message>
        <source>✗ {product}: {reason}</source>
        <translation>✗ {product}: {reason}</translation>
    </message>
    <message>
        <source>Balance due: {amount}. The customer can pay it with Pay balance.</source>
        <translation>Te betalen: {amount}. De klant kan dit betalen met Saldo betalen.</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Er is niets te betalen.</translation>
    </message>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Openstaande facturen (%n)</numerusform>
            <numerusform>Openstaande facturen (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Betaalde facturen (%n)</numerusform>
            <numerusform>Betaalde facturen (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Invoice</source>
        <translation>Factuur</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Uitgegeven</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Te betalen</translation>
    </message>
    <message>
        <source>{amount} (overdue)</source>
        <translation>{amount} (achterstallig)</translation>
    </message>
    <message>
        <source>Billing period: {start} – {end}</source>
        <translation>Factuurperiode: {start} – {end}</translation>
    </message>
    <message>
        <source>Billing Center</source>
        <translation>Billing Center</translation>
    </message>
    <message>
        <source>&amp;As seen by:</source>
        <translation>Ge&amp;zien door:</translation>
    </message>
    <message>
        <source>Contact the Billing Center is shown as</source>
        <translation>Contactpersoon voor wie het Billing Center wordt getoond</translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Ontdek andere producten</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturen</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation>Exclusief btw</translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation>{amount} per jaar</translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation>{amount} per maand</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation>De cijfers worden gelezen…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation>{month}: {amount} verwacht uit de komende verlengingen (exclusief btw)</translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation>{month}: {amount} gefactureerd (exclusief btw)</translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation>&amp;Valuta:</translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation>De valuta van de omzetgrafiek; bedragen worden nooit omgerekend</translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation>Gefactureerd</translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation>Verwacht uit komende verlengingen</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Gekocht</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Toegewezen</translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation>Terugkerende omzet per maand</translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation>Gekochte en toegewezen licenties per product</translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation>Annuleringen in behandeling</translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation>Verlengingen in de komende {days} dagen</translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation>Er wacht geen abonnement op annulering.</translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation>Er wordt in de komende {days} dagen geen abonnement verlengd.</translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation>Terugkerende omzet per maand in {currency}, exclusief btw</translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation>Cijfers per {date}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>&amp;Annuleringen in behandeling (%Ln)</numerusform>
            <numerusform>&amp;Annuleringen in behandeling (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>Verlengingen in de &amp;komende {days} dagen (%Ln)</numerusform>
            <numerusform>Verlengingen in de &amp;komende {days} dagen (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>Nog %Ln niet weergegeven</numerusform>
            <numerusform>Nog %Ln niet weergegeven</numerusform>
        </translation>
    </message>
    <message>
        <source>{title} — {more}</source>
        <translation>{title} — {more}</translation>
    </message>
</context>
<context>
    <name>DatabaseError</name>
    <message>
        <source>The database {path} cannot be used: {detail}</source>
        <translation>De database {path} kan niet worden gebruikt: {detail}</translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation>Kan de database {path} niet aanmaken: er kan niet in de map worden geschreven ({detail}).</translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation>Het bestand {path} is geen geldige Billing Desktop-database of is beschadigd; het is ongewijzigd gelaten.</translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation>De database {path} is gemaakt met een nieuwere versie van Billing Desktop (schema {revision}); werk de applicatie bij om de database te openen. Het bestand is ongewijzigd gelaten.</translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation>De database {path} is alleen-lezen; kopieer deze naar een map waarin geschreven kan worden of pas de machtigingen aan.</translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation>De database {path} is vergrendeld door een ander programma; sluit dat programma en probeer het opnieuw.</translation>
    </message>
    <message>
        <source>The disk holding the database {path} is full, so nothing was saved. Free some disk space and try again.</source>
        <translation>De schijf met de database {path} is vol, dus er is niets opgeslagen. Maak schijfruimte vrij en probeer het opnieuw.</translation>
    </message>
    <message>
        <source>The database file {path} cannot be found: it was moved or deleted, or its drive is not connected. Nothing was changed; put the file back and try again.</source>
        <translation>Het databasebestand {path} is niet gevonden: het is verplaatst of verwijderd, of het station is niet aangesloten. Er is niets gewijzigd; zet het bestand terug en probeer het opnieuw.</translation>
    </message>
    <message>
        <source>The database {path} could not be read or written (a disk or network error); nothing was saved. Check the drive and try again.</source>
        <translation>De database {path} kon niet worden gelezen of geschreven (een schijf- of netwerkfout); er is niets opgeslagen. Controleer het station en probeer het opnieuw.</translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation>Kan geen verbinding maken met de databaseserver {path}: {detail}</translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation>{path} is geen databaseadres dat Billing Desktop kan gebruiken: {detail}</translation>
    </message>
</context>
<context>
    <name>DatabasePage</name>
    <message>
        <source>Database</source>
        <translation>Database</translation>
    </message>
    <message>
        <source>Choose the database file</source>
        <translation>Kies het databasebestand</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>SQLite-databases (*.sqlite3 *.sqlite *.db);;Alle bestanden (*)</translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation>Nu in gebruik:</translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation>SQLite-&amp;bestand:</translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation>URL van database&amp;server:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>B&amp;laderen…</translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation>Een bestand dat nog niet bestaat, wordt aangemaakt als nieuwe, lege database. De applicatie opent de gekozen database zodra u op OK of Toepassen klikt, en opnieuw bij elke start.</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>DEMO DATABASE</source>
        <extracomment>the banner&apos;s colour: the status bar&apos;s DEMO badge&apos;s</extracomment>
        <translation>DEMODATABASE</translation>
    </message>
    <message>
        <source>Fictitious customers on a simulated date. Reset it or return to a snapshot at any time.</source>
        <translation>Fictieve klanten op een gesimuleerde datum. U kunt de database op elk moment resetten of terugzetten naar een momentopname.</translation>
    </message>
    <message>
        <source>Demo database</source>
        <translation>Demodatabase</translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation>Plannen: {plans}</translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation>Vanaf {price} per licentie per maand, met een gratis proefperiode van {days} dagen</translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation>Vanaf {price} per licentie per maand</translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation>Beëindigd op {ended}. De gegevens worden bewaard tot {deletion} en daarna verwijderd.</translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation>Beëindigd op {ended}.</translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation>Kan nu niet worden gekocht: {reason}</translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation>Opnieuw abonneren</translation>
    </message>
    <message>
        <source>Buy</source>
        <translation>Kopen</translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation>Opnieuw abonneren op {product}</translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation>{product} kopen</translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation>{product}, geannuleerd</translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation>Factuur {number} betwisten</translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation>Factuur {number} is uitgegeven op {date} en kan tot en met {deadline} worden betwist. De betwisting wordt op de factuur vermeld; er wordt niets automatisch gecrediteerd.</translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation>Wat betwist de klant?</translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation>Betwisting &amp;vastleggen</translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation>Het kaartnummer is ongeldig. Controleer de cijfers.</translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation>De vervaldatum {month}/{year} is ongeldig.</translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation>De kaart is verlopen in {month:02d}/{year}.</translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation>Dit kaarttype wordt niet geaccepteerd.</translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation>Het IBAN is ongeldig. Controleer de cijfers.</translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation>Het IBAN heeft geen geldige opmaak.</translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation>{text} is geen geldige datum (gebruik JJJJ-MM-DD, today, of today+/-N gevolgd door d, w, m of y).</translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code.</extracomment>
        <translation>Onbekende valutacode: {currency}.</translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <extracomment>Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation>Het bedrag {amount} is geen getal.</translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation>{amount} is geen geldig bedrag.</translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation>Het bedrag {amount} is te groot.</translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation>Een periode moet na het begin eindigen ({start} – {end}).</translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation>De datum valt buiten het ondersteunde bereik.</translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation>{day} ligt vóór de startdatum van de facturering, {anchor}.</translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation>Een vaste looptijd moet minstens één maand duren.</translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation>Alleen een superbeheerder kan de annulering van dit product aanvragen.</translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation>Dit product is gekocht via een vertegenwoordiger: alleen een productbeheerder of een geautoriseerde factureringsbeheerder kan de annulering ervan aanvragen.</translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation>Alleen een superbeheerder of een factureringsbeheerder kan een annulering aanvragen.</translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation>{on} valt niet in de huidige factuurperiode ({start} – {end}).</translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation>Een overeenkomst met vaste looptijd heeft een einddatum nodig.</translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation>Neem contact op met uw factureringsbeheerder ({name}, {email}) om product- of licentiewijzigingen door te voeren</translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation>Dit is al het huidige plan.</translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation>Neem contact op met de klantenservice om over te stappen naar een lager plan</translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation>Er is minstens één licentie nodig.</translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation>Er zijn {assigned} licenties toegewezen aan gebruikers. Trek licenties in voordat u het aantal verlaagt tot onder {assigned}.</translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation>Dit plan staat maximaal {maximum} licenties toe.</translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation>Het abonnement is verlopen. Neem opnieuw een abonnement voordat u wijzigingen aanbrengt.</translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation>Een achterstallige factuur moet worden betaald voordat het plan kan worden gewijzigd.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation>Facturen kunnen binnen 15 dagen na uitgifte worden betwist; de laatste dag was {deadline}.</translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation>Vertegenwoordigers kunnen alleen de corporate accounts wijzigen die aan hen zijn toegewezen.</translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation>Trainers kunnen alleen in een demodatabase wijzigingen aanbrengen.</translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation>Uw rol heeft alleen leesrechten.</translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation>De wijzigingsdatum {on} ligt vóór het begin van de huidige factuurperiode ({start}).</translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation>Het bedrag mag niet negatief zijn.</translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation>{country} is geen geldige landcode.</translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation>Het btw-tarief {rate} voor {country} is ongeldig.</translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation>Het bestand met btw-tarieven is ongeldig: {detail}.</translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation>Het bestand met btw-tarieven {path} kan niet worden gelezen.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation>{number} is geen geldig btw-nummer voor {country}: controleer de opmaak.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation>{number} is geen geldig btw-nummer voor {country}: controleer de cijfers.</translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation>Het btw-nummer {number} hoort bij een ander land dan het factuurland {country}.</translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation>Btw-nummers van {country} kunnen niet worden gevalideerd.</translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation>Uw bestelling {order_number} is bevestigd</translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation>Uw abonnement op {product} is geannuleerd</translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation>Uw abonnement op {product} is opnieuw geactiveerd</translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation>Uw proefperiode van {product} eindigt op {trial_end}</translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation>Uw proefperiode van {product} is afgelopen</translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation>Factuur {invoice_number} voor uw abonnement op {product}</translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation>Betaling ontvangen: {amount}</translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation>Beste {contact_name},

Hartelijk dank voor uw bestelling {order_number}.

{summary}

Factuur {invoice_number}: {total} (nu te betalen: {amount_due}).
Uw volgende factuurdatum is {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation>Beste {contact_name},

We hebben de automatische verlenging van uw abonnement op {product} stopgezet. Het abonnement blijft actief tot {expiry_date}.
Tot die datum kunt u het op elk moment opnieuw activeren.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation>Beste {contact_name},

Uw abonnement op {product} wordt weer automatisch verlengd. Uw volgende factuurdatum is {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation>Beste {contact_name},

Uw gratis proefperiode van {product} eindigt op {trial_end}. Neem vóór die datum een abonnement om het product te blijven gebruiken.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation>Beste {contact_name},

Uw gratis proefperiode van {product} is op {trial_end} afgelopen. Er is niets in rekening gebracht. U kunt op elk moment een abonnement nemen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation>Beste {contact_name},

Uw abonnement op {product} is verlengd voor de periode {period}.
Factuur {invoice_number}: {total}. Het bedrag is in rekening gebracht op {charged_to}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation>Beste {contact_name},

Uw abonnement op {product} is verlengd voor de periode {period}.
Factuur {invoice_number}: {total}. Wij verzoeken u {amount_due} uiterlijk op {due_date} te betalen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation>Beste {contact_name},

Uw abonnement op {product} is verlengd voor de periode {period}.
Factuur {invoice_number}: {total}. Deze is betaald uit uw accounttegoed; u hoeft niets te betalen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation>Beste {contact_name},

We hebben uw betaling van {amount} voor {invoice_numbers} ontvangen. Hartelijk dank.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation>Beste {contact_name},

We hebben uw betaling van {amount} ontvangen. Het bedrag is bijgeschreven op uw accounttegoed en wordt gebruikt voor uw volgende facturen. Hartelijk dank.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation>Beste {contact_name},

We hebben uw betaling van {amount} voor {invoice_numbers} ontvangen; {to_credit} daarvan is bijgeschreven op uw accounttegoed. Hartelijk dank.
</translation>
    </message>
    <message>
        <source>
Kind regards,
Your billing team

Account {account_number} · {company_name}
</source>
        <extracomment>Appended to every body.</extracomment>
        <translation>
Met vriendelijke groet,
Uw factureringsteam

Account {account_number} · {company_name}
</translation>
    </message>
</context>
<context>
    <name>EmailsModel</name>
    <message>
        <source>Date</source>
        <extracomment>The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Soort</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Onderwerp</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Aan</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Verzonden op {when}</translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation>Laatste fout: {error}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>onbekend</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Volgende poging: {when}</translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation>Wacht op verzending</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Kopie aan {addresses}</translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Bestelbevestiging</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Annuleringsbevestiging</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Heractivering</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Proefperiode eindigt binnenkort</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Proefperiode beëindigd</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Verlengingsfactuur</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Betaling ontvangen</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>In wachtrij</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Verzonden</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Mislukt</translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n e-mail</numerusform>
            <numerusform>%n e-mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n e-mail, {failed} mislukt</numerusform>
            <numerusform>%n e-mails, {failed} mislukt</numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Selecteer een e-mail om deze te lezen.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, kopie aan {cc}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Verzonden op {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Mislukt na %n poging: {error}</numerusform>
            <numerusform>Mislukt na %n pogingen: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation>In wachtrij sinds {when}</translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation>&amp;Opnieuw verzenden</translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation>De geselecteerde mislukte e-mail opnieuw verzenden bij de volgende verzendronde</translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation>Er is nog geen e-mail naar deze klant verzonden.</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>Aan:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Onderwerp:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation>E-mails verzonden naar de klant</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Tekst van de e-mail</translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Bestelbevestiging</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Annuleringsbevestiging</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Heractivering</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Proefperiode eindigt binnenkort</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Proefperiode beëindigd</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Verlengingsfactuur</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Betaling ontvangen</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>Wachtend</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Verzonden</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Mislukt</translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation>Alle e-mails ({count})</translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation>Wachtend ({count})</translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation>Mislukt ({count})</translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation>Nog niet verzonden ({count})</translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation>Verzonden ({count})</translation>
    </message>
    <message>
        <source>{status}: {error}</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``).</extracomment>
        <translation>{status}: {error}</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Kopie aan {addresses}</translation>
    </message>
    <message>
        <source>{number} · {company}</source>
        <translation>{number} · {company}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Verzonden op {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Mislukt na %n poging: {error}</numerusform>
            <numerusform>Mislukt na %n pogingen: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>geen reden opgegeven</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Volgende poging: {when}</translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>Wachtend sinds {when}; %n eerdere poging mislukt: {error}</numerusform>
            <numerusform>Wachtend sinds {when}; %n eerdere pogingen mislukt: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Pending since {when}</source>
        <translation>Wachtend sinds {when}</translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>the server-level problem (unreachable, login refused), translatable The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation>Er is een mailserver ingesteld.</translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation>Er is geen mailserver ingesteld: e-mails wachten in het postvak Uit.</translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation>Stel de SMTP-server in via Instellingen.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln e-mail</numerusform>
            <numerusform>%Ln e-mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n e-mail wordt verzonden zodra er een mailserver is ingesteld (Instellingen, SMTP-server). Er is niets verloren gegaan.</numerusform>
            <numerusform>%n e-mails worden verzonden zodra er een mailserver is ingesteld (Instellingen, SMTP-server). Er is niets verloren gegaan.</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation>Er is geen mailserver ingesteld, dus er is niets verzonden. De e-mails blijven in het postvak Uit; stel de SMTP-server in via Instellingen en verzend ze opnieuw.</translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation>Er hoeft nu geen e-mail te worden verzonden. Mislukte e-mails worden opnieuw geprobeerd op het tijdstip van hun volgende poging; u kunt ze ook selecteren en Nu opnieuw proberen kiezen.</translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation>E-mails verzenden</translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>%n e-mail wordt naar de mailserver verzonden…</numerusform>
            <numerusform>%n e-mails worden naar de mailserver verzonden…</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation>Er is geen mailserver ingesteld, dus er is niets verzonden. De e-mails blijven in het postvak Uit.</translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>De mailserver kon niet worden gebruikt, dus %n e-mail blijft in het postvak Uit en wordt later opnieuw geprobeerd. De server meldde: {error}</numerusform>
            <numerusform>De mailserver kon niet worden gebruikt, dus %n e-mails blijven in het postvak Uit en worden later opnieuw geprobeerd. De server meldde: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n e-mail verzonden.</numerusform>
            <numerusform>%n e-mails verzonden.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n e-mail verzonden; {failed} geweigerd door de server (zie Laatste fout).</numerusform>
            <numerusform>%n e-mails verzonden; {failed} geweigerd door de server (zie Laatste fout).</numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation>Het verzenden is geannuleerd. De e-mails die al waren verzonden, zijn als verzonden gemarkeerd; de andere blijven in het postvak Uit.</translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Selecteer een e-mail om deze te lezen.</translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation>Hier staat nog geen e-mail.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, kopie aan {cc}</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Tonen:</translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation>Nu &amp;opnieuw proberen</translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation>De geselecteerde mislukte of wachtende e-mails nu verzenden, zonder te wachten</translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation>&amp;Wachtende nu verzenden</translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation>Alle e-mails die wachten en nu aan de beurt zijn naar de mailserver verzenden</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>&amp;Account openen</translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation>Het account tonen waarnaar deze e-mail is verzonden</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>Aan:</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>Account:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Onderwerp:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation>E-mails aan klanten</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Tekst van de e-mail</translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message>
        <source>What this step is about is not on the screen yet: do the steps before it first.</source>
        <extracomment>View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers) what the last Prepare found (a result, or the error reading the account)</extracomment>
        <translation>Waar deze stap over gaat, staat nog niet op het scherm: voer eerst de voorgaande stappen uit.</translation>
    </message>
    <message>
        <source>Choose a walkthrough: it follows a help article step by step on a demo account, and ticks each step as you do it.</source>
        <translation>Kies een stappenplan: het volgt een helpartikel stap voor stap op een demoaccount en vinkt elke stap af zodra u deze uitvoert.</translation>
    </message>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>%n stap uitgevoerd.</numerusform>
            <numerusform>Alle %n stappen uitgevoerd.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done! {outcome}</source>
        <translation>Klaar! {outcome}</translation>
    </message>
    <message>
        <source>Step {number} of {total}</source>
        <translation>Stap {number} van {total}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, done: {text}</source>
        <translation>Stap {number} van {total}, uitgevoerd: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, current: {text}</source>
        <translation>Stap {number} van {total}, nu aan de beurt: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}: {text}</source>
        <translation>Stap {number} van {total}: {text}</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>Gids</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>&amp;Gids</translation>
    </message>
    <message>
        <source>&amp;Walkthrough:</source>
        <translation>Stapp&amp;enplan:</translation>
    </message>
    <message>
        <source>Choose a walkthrough…</source>
        <translation>Kies een stappenplan…</translation>
    </message>
    <message>
        <source>Pr&amp;epare</source>
        <translation>Voorbere&amp;iden</translation>
    </message>
    <message>
        <source>Open the demo account of this walkthrough and start from step 1</source>
        <translation>Het demoaccount van dit stappenplan openen en bij stap 1 beginnen</translation>
    </message>
    <message>
        <source>Show &amp;me</source>
        <translation>Aan&amp;wijzen</translation>
    </message>
    <message>
        <source>Point at what the current step is about</source>
        <translation>Aanwijzen waar de huidige stap over gaat</translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation>Factuur</translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation>Factuurnummer</translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation>Factuurdatum</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Vervaldatum</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Serviceperiode</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation>Factuur aan</translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation>T.a.v. {name}</translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation>Btw-nummer: {vat_number}</translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation>Inkooporder: {po_number}</translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation>Betalingstermijn: {days} dagen netto</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Omschrijving</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Factuurperiode</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Aantal</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Stukprijs</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Subtotaal</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>Btw {rate}</translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation>Btw verlegd — btw te voldoen door de afnemer</translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation>Verrekend accounttegoed</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>Betaald bedrag</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Te betalen bedrag</translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation>Wij verzoeken u {amount} uiterlijk op {due_date} te betalen, onder vermelding van factuurnummer {number}.</translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation>Volledig betaald. Hartelijk dank.</translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation>Deze factuur is ongeldig gemaakt en hoeft niet te worden betaald.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Betwist op {date}: {note}</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>ONGELDIG</translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation>Btw verlegd: btw te voldoen door de afnemer (artikel 196 Btw-richtlijn).</translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation>Dienst</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Factuurperiode</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Aantal</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Stukprijs</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation>Open</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Achterstallig</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Betaald</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Ongeldig</translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation>{status}, betwist</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>What a row shows in one column: its text, alignment and colour (None: the default). Blocks of rows kept in memory (the rest is read again by id when shown).</extracomment>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>Account-ID</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Serviceperiode</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation>Nog te betalen</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Vervaldatum</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation>Factuurnummers volgen de volgorde waarin de facturen zijn uitgegeven</translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation>De dag waarop de factuur is uitgegeven; sorteer op nummer voor die volgorde</translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation>Gesorteerd op account, en per account op factuurdatum</translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation>Gesorteerd op bedrijf, en per account op factuurdatum</translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation>Wat er nog op de factuur moet worden betaald</translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation>Eerst open (achterstallig bovenaan), dan betaald, dan ongeldig</translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation>Te betalen: {amount}</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Er is niets te betalen.</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Accounttegoed: {amount}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>&amp;Openstaande facturen (%n)</numerusform>
            <numerusform>&amp;Openstaande facturen (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>Betaa&amp;lde facturen (%n)</numerusform>
            <numerusform>Betaa&amp;lde facturen (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation>Geen openstaande facturen: alles is betaald.</translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation>Factuurgegevens</translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation>Selecteer een factuur om de regels te zien.</translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation>Factuur {number} van {date}</translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation>Btw (verlegd)</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>Btw {rate}</translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation>Achterstallig: vervallen op {date}.</translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation>Vervalt op {date}.</translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Ongeldig gemaakt op {date}: {reason}</translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation>{amount} betaald op {date} via {method}.</translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation>Btw verlegd: btw-nummer van de klant {vat}.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Betwist op {date}: {note}</translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation>Kan tot en met {date} worden betwist.</translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation>De termijn voor betwisting is op {date} verstreken.</translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation>bankoverschrijving</translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation>Een ongeldige factuur kan niet worden betwist.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation>Facturen kunnen binnen 15 dagen na uitgifte worden betwist; de laatste dag voor {number} was {date}.</translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation>De standaardkaart {method} is verlopen; voeg eerst een nieuwe kaart toe of stel een andere methode in als standaard.</translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation>Er is niets te betalen op dit account.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Met uw rol kunt u dit account bekijken, maar niet wijzigen.</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Saldo betalen</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Een bankoverschrijving van {amount} voor account {account} registreren?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>{amount} in rekening brengen op {method} voor account {account}?</translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation>De openstaande facturen worden betaald, de oudste eerst, en de klant ontvangt een e-mail.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>{amount} &amp;betalen</translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation>{amount} is ontvangen via {method}.</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n factuur betaald: {numbers}.</numerusform>
            <numerusform>%n facturen betaald: {numbers}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation>{amount} is bijgeschreven op het accounttegoed.</translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation>Nu te betalen: {amount}.</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Betaling geregistreerd</translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation>Er is een betalingsbevestiging naar de klant gemaild.</translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation>De betwisting is vermeld op factuur {number}.</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Factuur {number} wordt voorbereid…</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Er kon geen PDF-viewer worden gestart; de factuur staat in {path}.</translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation>Factuur opslaan als PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF-bestanden (*.pdf)</translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation>Factuur {number} is opgeslagen in {path}.</translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation>Factuur {number} wordt opgeslagen…</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} is not writable. Choose another folder and save again.</source>
        <translation>Factuur {number} is niet opgeslagen: er kan niet in de map {folder} worden geschreven. Kies een andere map en sla opnieuw op.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} does not exist. Choose another folder and save again.</source>
        <translation>Factuur {number} is niet opgeslagen: de map {folder} bestaat niet. Kies een andere map en sla opnieuw op.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the disk is full. Free some space or choose another folder and save again.</source>
        <translation>Factuur {number} is niet opgeslagen: de schijf is vol. Maak ruimte vrij of kies een andere map en sla opnieuw op.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved to {folder} ({error}). Choose another folder and save again.</source>
        <translation>Factuur {number} is niet opgeslagen in {folder} ({error}). Kies een andere map en sla opnieuw op.</translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation>De PDF kon niet worden geschreven: {error}</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Geannuleerd; er is geen bestand geschreven.</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Factuur-PDF</translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation>Saldo be&amp;talen…</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>&amp;PDF openen</translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation>PDF op&amp;slaan…</translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation>Bet&amp;wisten…</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Subtotaal</translation>
    </message>
    <message>
        <source>VAT</source>
        <translation>Btw</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation>Gebruikt accounttegoed</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Betaald</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Te betalen</translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation>Open</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Achterstallig</translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation>Open, betwist</translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation>Achterstallig, betwist</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Betaald</translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation>Betaald, betwist</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Ongeldig</translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation>Ongeldig, betwist</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>sort order of the statuses: what needs attention first A value that sorts the column correctly (ints and strings only).</extracomment>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Serviceperiode</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Omschrijving</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Te betalen</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (+%n andere)</numerusform>
            <numerusform>{description} (+%n andere)</numerusform>
        </translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Ongeldig gemaakt op {date}: {reason}</translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation>Vervallen op {date}</translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation>Vervalt op {date}</translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id. The filter bar&apos;s and the action row&apos;s widgets, built right after the first paint (:meth:`_build_filters`) or when first used, whichever comes first. painted right after the table&apos;s first page: the list is what the user waits for</extracomment>
        <translation>De PDF kon niet worden geschreven: {error}</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Factuur-PDF</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Factuur {number} wordt voorbereid…</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Geannuleerd; er is geen bestand geschreven.</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Er kon geen PDF-viewer worden gestart; de factuur staat in {path}.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln factuur</numerusform>
            <numerusform>%Ln facturen</numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation>Geen facturen voldoen aan de filters.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Alle filters wissen</translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation>Nog geen facturen.</translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation>Facturen verschijnen hier zodra bestellingen of verlengingen worden gefactureerd.</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>&amp;Account:</translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation>Account-ID of bedrijf</translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation>Typ het begin van een account-ID of van een bedrijfsnaam (Ctrl+F)</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Status:</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Alle statussen</translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation>Alleen facturen met deze status tonen</translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation>Alleen a&amp;chterstallig</translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation>Alleen openstaande facturen over de vervaldatum tonen</translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation>Uitgegeven &amp;van:</translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation>&amp;tot:</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Elke datum</translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation>De factuurdatum; met Delete zet u deze terug op elke datum</translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation>Filters &amp;wissen</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>Account &amp;openen</translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation>Het account van de geselecteerde factuur openen</translation>
    </message>
    <message>
        <source>Open account</source>
        <translation>Account openen</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>&amp;PDF openen</translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation>De geselecteerde factuur als PDF tonen</translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation>PDF openen</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturen</translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation>Taal</translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation>&amp;Taal van de applicatie:</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Systeemtaal</translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation>De nieuwe taal wordt direct gebruikt, en ook bij elke start. E-mails en facturen voor klanten blijven in de taal van elk account.</translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation>Contactpersoon</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rollen</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation>{name} (contactpersoon facturering)</translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n te veel voor {licences} licenties</numerusform>
            <numerusform>%n te veel voor {licences} licenties</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n van {licences} vrij</numerusform>
            <numerusform>%n van {licences} vrij</numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation>{product} ({plan})</translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation>{product}, plan {plan}, {status}: {assigned} van {licences} toegewezen</translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation>{name} krijgt een licentie voor {product} wanneer u de wijzigingen toepast.</translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation>{name} verliest de licentie voor {product} wanneer u de wijzigingen toepast.</translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation>Er is geen licentie voor {product} vrij. Koop meer licenties of trek eerst een licentie in.</translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation>{product}
{seats}</translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation>{name}: licentie voor {product}</translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation>Proefperiode</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actief</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulering in behandeling</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Niet vastgelegd</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation>{name} (contactpersoon facturering)</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n wijziging nog niet toegepast</numerusform>
            <numerusform>%n wijzigingen nog niet toegepast</numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation>Wijzigingen toegepast.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Aangevraagd door:</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation>De contactpersoon die om de wijziging vroeg, vastgelegd in de activiteit</translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation>Te&amp;rugzetten</translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation>De nog niet toegepaste wijzigingen ongedaan maken</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>&amp;Toepassen</translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation>Licenties toewijzen en intrekken zoals aangevinkt</translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation>Dit account heeft geen abonnement dat in proefperiode of actief is, dus er zijn geen licenties om toe te wijzen.</translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation>Licenties per contactpersoon</translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation>Alle gebruikers toewijzen</translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation>Alle contactpersonen aanvinken voor {product}</translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation>Alle gebruikers toewijzen aan {product}</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Alles intrekken</translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation>Alle contactpersonen uitvinken voor {product}</translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation>Licenties van {product} bij alle gebruikers intrekken</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation>Beheerder</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>Support</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Vertegenwoordiger</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>Trainer</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Lezer</translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>After the first paint, when the trainer&apos;s tools and presentation mode are added. How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation>Accounts</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturen</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-mails</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the sandbox menu, simulated clock, guide and presentation mode are in place View ▸ Accounts, Invoices, … by view key View ▸ Language ▸ each language by code the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation>Medewerker: {name} ({role})</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Database: {name}</translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation>Vandaag: {date} (gesimuleerd)</translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation>Deze database werkt met een gesimuleerde datum, niet met de klok van de computer.</translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation>Vandaag: {date}</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;Een backoffice voor de facturering van softwareabonnementen.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation>Over Billing Desktop</translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation>{database} (demo)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Bestand</translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation>&amp;Demodatabase openen</translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation>Overschakelen naar de demodatabase met voorbeeldaccounts</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Afsluiten</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>Beel&amp;d</translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation>Account &amp;zoeken…</translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation>Een account zoeken op ID, bedrijf, naam of e-mailadres van een contactpersoon, of factuurnummer</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Instellingen</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Instellingen…</translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation>Taal, database, mailserver, thema en identiteit van de medewerker</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Taal</translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation>&amp;Navigatie tonen</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Vernieuwen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation>&amp;Over Billing Desktop</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>Navigatie</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DEMO</translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation>Een demodatabase: fictieve klanten en een gesimuleerde datum.</translation>
    </message>
</context>
<context>
    <name>MissingDatabase</name>
    <message>
        <source>The database {path} cannot be found.</source>
        <translation>De database {path} is niet gevonden.</translation>
    </message>
    <message>
        <source>It was moved or deleted, or its drive or network share is not connected. Nothing was created in its place, and Billing Desktop looks for it again at the next start. You can open the default database for now, choose another database file, or quit and connect the drive first.</source>
        <translation>Het bestand is verplaatst of verwijderd, of het station of de netwerkmap is niet verbonden. Er is niets voor in de plaats gemaakt en Billing Desktop zoekt er bij de volgende start opnieuw naar. U kunt nu de standaarddatabase openen, een ander databasebestand kiezen, of afsluiten en eerst het station verbinden.</translation>
    </message>
    <message>
        <source>Open the &amp;default database</source>
        <translation>&amp;Standaarddatabase openen</translation>
    </message>
    <message>
        <source>&amp;Choose another file…</source>
        <translation>Ander &amp;bestand kiezen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Afsluiten</translation>
    </message>
    <message>
        <source>Open a database file</source>
        <translation>Databasebestand openen</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db)</source>
        <translation>SQLite-databases (*.sqlite3 *.sqlite *.db)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle bestanden (*)</translation>
    </message>
</context>
<context>
    <name>OperatorAdminMenu</name>
    <message>
        <source>&amp;Operators…</source>
        <translation>Mede&amp;werkers…</translation>
    </message>
    <message>
        <source>Create operators, set their roles and assign representatives</source>
        <translation>Medewerkers aanmaken, hun rollen instellen en vertegenwoordigers toewijzen</translation>
    </message>
    <message>
        <source>Only administrators manage operators</source>
        <translation>Alleen beheerders kunnen medewerkers beheren</translation>
    </message>
</context>
<context>
    <name>OperatorFormDialog</name>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <extracomment>None: a new operator; else the operator whose password is reset the service&apos;s answer (the new or changed ``OperatorRow``) once accepted</extracomment>
        <translation>De twee wachtwoorden komen niet overeen; typ het opnieuw.</translation>
    </message>
    <message>
        <source>New Operator</source>
        <translation>Nieuwe medewerker</translation>
    </message>
    <message>
        <source>The new operator signs in with this email address and password. Tell them the password in person or by phone, not by email.</source>
        <translation>De nieuwe medewerker meldt zich aan met dit e-mailadres en wachtwoord. Geef het wachtwoord persoonlijk of telefonisch door, niet per e-mail.</translation>
    </message>
    <message>
        <source>&amp;Create Operator</source>
        <translation>Medewerker &amp;aanmaken</translation>
    </message>
    <message>
        <source>Reset Password</source>
        <translation>Wachtwoord resetten</translation>
    </message>
    <message>
        <source>A new password for {name} ({email}). It also lifts a lock after failed sign-ins. Tell them the password in person or by phone, not by email.</source>
        <translation>Een nieuw wachtwoord voor {name} ({email}). Dit heft ook een vergrendeling na mislukte aanmeldpogingen op. Geef het wachtwoord persoonlijk of telefonisch door, niet per e-mail.</translation>
    </message>
    <message>
        <source>&amp;Set Password</source>
        <translation>Wachtwoord &amp;instellen</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Naam:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;E-mailadres:</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>&amp;Rol:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Wachtwoord:</translation>
    </message>
    <message>
        <source>R&amp;epeat password:</source>
        <translation>Wachtwoord &amp;herhalen:</translation>
    </message>
    <message>
        <source>At least {count} characters, not the email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Minstens {count} tekens, niet het e-mailadres. Een paar woorden die niets met elkaar te maken hebben, vormen een goed wachtwoord dat makkelijk te onthouden is.</translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation>Medewerker</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Uw &amp;naam:</translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation>Uw &amp;e-mailadres:</translation>
    </message>
    <message>
        <source>Role:</source>
        <translation>Rol:</translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation>Wordt getoond in de statusbalk en vastgelegd bij elke wijziging die u in deze database aanbrengt.</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>&amp;Enable</source>
        <translation>&amp;Inschakelen</translation>
    </message>
    <message>
        <source>&amp;Disable…</source>
        <translation>&amp;Uitschakelen…</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>U kunt uzelf niet uitschakelen; een andere beheerder kan dat wel.</translation>
    </message>
    <message>
        <source>Created the operator {name} ({role}).</source>
        <translation>Medewerker {name} ({role}) is aangemaakt.</translation>
    </message>
    <message>
        <source>Change Role</source>
        <translation>Rol wijzigen</translation>
    </message>
    <message>
        <source>Role of {name}:</source>
        <translation>Rol van {name}:</translation>
    </message>
    <message>
        <source>&amp;Change Role</source>
        <translation>&amp;Rol wijzigen</translation>
    </message>
    <message>
        <source>{name} is now {role}.</source>
        <translation>{name} is nu {role}.</translation>
    </message>
    <message>
        <source>Disable Operator</source>
        <translation>Medewerker uitschakelen</translation>
    </message>
    <message>
        <source>Disable {name} ({email})?</source>
        <translation>{name} ({email}) uitschakelen?</translation>
    </message>
    <message>
        <source>They can no longer sign in. Their work and the audit trail are kept, and you can enable them again at any time.</source>
        <translation>Deze medewerker kan zich dan niet meer aanmelden. Het verrichte werk en de audittrail blijven bewaard, en u kunt de medewerker op elk moment weer inschakelen.</translation>
    </message>
    <message>
        <source>&amp;Disable</source>
        <translation>&amp;Uitschakelen</translation>
    </message>
    <message>
        <source>Enabled {name}.</source>
        <translation>{name} is ingeschakeld.</translation>
    </message>
    <message>
        <source>Disabled {name}.</source>
        <translation>{name} is uitgeschakeld.</translation>
    </message>
    <message>
        <source>Set a new password for {name}.</source>
        <translation>Er is een nieuw wachtwoord ingesteld voor {name}.</translation>
    </message>
    <message>
        <source>There is no active representative yet. Create an operator with the role Representative first.</source>
        <translation>Er is nog geen actieve vertegenwoordiger. Maak eerst een medewerker aan met de rol Vertegenwoordiger.</translation>
    </message>
    <message>
        <source>Assign Representative</source>
        <translation>Vertegenwoordiger toewijzen</translation>
    </message>
    <message>
        <source>Representative of {company} ({account}):</source>
        <translation>Vertegenwoordiger van {company} ({account}):</translation>
    </message>
    <message>
        <source>&amp;Assign</source>
        <translation>&amp;Toewijzen</translation>
    </message>
    <message>
        <source>{account} no longer has a representative.</source>
        <translation>{account} heeft geen vertegenwoordiger meer.</translation>
    </message>
    <message>
        <source>{name} is now the representative of {account}.</source>
        <translation>{name} is nu de vertegenwoordiger van {account}.</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>Medewerkers</translation>
    </message>
    <message>
        <source>&amp;Operators</source>
        <translation>&amp;Medewerkers</translation>
    </message>
    <message>
        <source>&amp;Corporate Accounts</source>
        <translation>&amp;Corporate accounts</translation>
    </message>
    <message>
        <source>&amp;New Operator…</source>
        <translation>&amp;Nieuwe medewerker…</translation>
    </message>
    <message>
        <source>Change &amp;Role…</source>
        <translation>&amp;Rol wijzigen…</translation>
    </message>
    <message>
        <source>Reset &amp;Password…</source>
        <translation>&amp;Wachtwoord resetten…</translation>
    </message>
    <message>
        <source>&amp;Assign Representative…</source>
        <translation>Vertegenwoordiger &amp;toewijzen…</translation>
    </message>
    <message>
        <source>Re&amp;move Representative</source>
        <translation>Vertegenwoordiger &amp;verwijderen</translation>
    </message>
    <message>
        <source>Search by company name or account ID</source>
        <translation>Zoeken op bedrijfsnaam of account-ID</translation>
    </message>
    <message>
        <source>No corporate account matches.</source>
        <translation>Geen corporate account gevonden.</translation>
    </message>
    <message>
        <source>Corporate accounts</source>
        <translation>Corporate accounts</translation>
    </message>
</context>
<context>
    <name>OperatorsModel</name>
    <message>
        <source>Name</source>
        <extracomment>the search waits for a pause in typing</extracomment>
        <translation>Naam</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rol</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>Laatste aanmelding</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Uitgeschakeld</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Vergrendeld</translation>
    </message>
    <message>
        <source>No password</source>
        <translation>Geen wachtwoord</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actief</translation>
    </message>
    <message>
        <source>Cannot sign in until an administrator enables it.</source>
        <translation>Kan zich pas weer aanmelden als een beheerder deze medewerker inschakelt.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.</source>
        <translation>Te veel mislukte aanmeldpogingen: vergrendeld tot {time}. Door het wachtwoord te resetten wordt de vergrendeling opgeheven.</translation>
    </message>
    <message>
        <source>Has no password, so cannot sign in to a shared database. Reset the password to give one.</source>
        <translation>Heeft geen wachtwoord en kan zich dus niet aanmelden bij een gedeelde database. Reset het wachtwoord om er een in te stellen.</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nooit</translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches.</extracomment>
        <translation>Aangemaakt</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Ontvanger</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Onderwerp</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Soort</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Pogingen</translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation>Volgende poging</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation>Bedrijfs&amp;naam</translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation>Acc&amp;ounttype</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>&amp;Adres</translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation>Adres&amp;regel 2</translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation>&amp;Postcode</translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation>Plaat&amp;s</translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation>Re&amp;gio</translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation>&amp;Land</translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation>Btw-n&amp;ummer</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Taal</translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation>&amp;Valuta</translation>
    </message>
    <message>
        <source>{language} ({code})</source>
        <translation>{language} ({code})</translation>
    </message>
    <message>
        <source>{country} ({code})</source>
        <translation>{country} ({code})</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Naam</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rollen</translation>
    </message>
    <message>
        <source>The billing contact may change plans and receives the invoices.</source>
        <translation>De contactpersoon voor facturering mag plannen wijzigen en ontvangt de facturen.</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation>Betalingsmethoden</translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation>Aan: verlengingsfacturen worden betaald met de standaardbetalingsmethode.</translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation>Uit: verlengingsfacturen blijven open totdat ze zijn betaald.</translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation>{state} Wijzig dit onder {link}.</translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation>{days} dagen netto (facturen vervallen {days} dagen na uitgifte)</translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation>Betaling bij ontvangst</translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation>Niet toegewezen</translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation>Geen (standaardaccounts zijn selfservice)</translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>De contactpersoon voor facturering (vetgedrukt) is {name}. Contactpersonen en hun licenties worden beheerd onder Gebruikers en licenties.</translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Het account heeft geen contactpersoon voor facturering. Contactpersonen en hun licenties worden beheerd onder Gebruikers en licenties.</translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation>De valuta kan niet worden gewijzigd: het account heeft al facturen of tegoed in deze valuta.</translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation>De valuta kan worden gewijzigd tot de eerste factuur.</translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation>Geen betalingsmethode geregistreerd</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Kaart</translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation>{brand} eindigend op {last4}, verloopt {month}/{year}</translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation>{brand} eindigend op {last4}</translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation>Bankrekening eindigend op {last4}</translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation>Betaalt op factuur</translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation>Standaardaccounts zijn selfservice: {name} is dan niet langer de vertegenwoordiger van dit account.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation>Corporate accounts betalen op factuur en worden begeleid door een vertegenwoordiger.</translation>
    </message>
    <message>
        <source>This account was changed by {operator} at {time}. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Dit account is op {time} gewijzigd door {operator}. Uw bewerkingen blijven behouden; Opnieuw laden toont de actuele gegevens en verwerpt uw bewerkingen.</translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Dit account is elders gewijzigd. Uw bewerkingen blijven behouden; Opnieuw laden toont de actuele gegevens en verwerpt uw bewerkingen.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Factuuradres</translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation>Btw en documenten</translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation>Saldi en facturering</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Contactpersonen</translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation>{label} *</translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation>Optioneel, bijv. NL123456789B01</translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation>Wordt tijdens het typen gecontroleerd voor het factuurland; laat leeg als er geen is.</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Optioneel</translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation>Openstaand saldo</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Accounttegoed</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Automatische betaling</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Standaardbetalingsmethode</translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation>Betalingstermijn</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Vertegenwoordiger</translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation>U kunt dit account bekijken, maar niet wijzigen.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Opslaan</translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation>De wijzigingen opslaan (Ctrl+S)</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Terugzetten</translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation>De waarden van vóór uw bewerkingen terugzetten</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Opnieuw laden</translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation>Het account opnieuw uit de database lezen; niet-opgeslagen bewerkingen worden verworpen</translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation>Typ het kaartnummer verder.</translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation>Kies de vervalmaand en het vervaljaar.</translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation>Typ het IBAN verder.</translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation>{country} •••• {last4}</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Kaart toevoegen</translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation>Alleen het merk, de laatste vier cijfers en de vervaldatum worden bewaard; het kaartnummer wordt nooit opgeslagen.</translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation>Kaart&amp;nummer:</translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation>1234 5678 9012 3456</translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation>&amp;Vervaldatum:</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>Maand</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>Jaar</translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation>Naam op &amp;kaart:</translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation>Factuuradres van de kaart</translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation>Laat deze velden leeg om het factuuradres van het account te gebruiken.</translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation>&amp;Straat:</translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation>&amp;Postcode:</translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation>Pl&amp;aats:</translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation>Land&amp;code:</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>NL</translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation>Deze kaart als stan&amp;daardbetalingsmethode instellen</translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation>Bankrekening toevoegen</translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation>De rekening wordt belast via SEPA-incasso. Alleen het land en de laatste vier tekens van het IBAN worden bewaard.</translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation>&amp;IBAN:</translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation>NL91 ABNA 0417 1643 00</translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation>&amp;Rekeninghouder:</translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation>Deze bankrekening als stan&amp;daardbetalingsmethode instellen</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>&amp;Toevoegen</translation>
    </message>
</context>
<context>
    <name>PaymentMethods</name>
    <message>
        <source>Visa</source>
        <translation>Visa</translation>
    </message>
    <message>
        <source>Mastercard</source>
        <translation>Mastercard</translation>
    </message>
    <message>
        <source>American Express</source>
        <translation>American Express</translation>
    </message>
    <message>
        <source>Discover</source>
        <translation>Discover</translation>
    </message>
    <message>
        <source>Maestro</source>
        <translation>Maestro</translation>
    </message>
    <message>
        <source>JCB</source>
        <translation>JCB</translation>
    </message>
    <message>
        <source>Diners Club</source>
        <translation>Diners Club</translation>
    </message>
    <message>
        <source>Card</source>
        <extracomment>Characters a card number may be typed with: digits, spaces and dashes (19 digits + gaps). An IBAN as typed: letters, digits and spaces (34 characters + gaps). Fewer digits than this and the number is still being typed: no error yet.</extracomment>
        <translation>Kaart</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsModel</name>
    <message>
        <source>{brand} •••• {last4}</source>
        <translation>{brand} •••• {last4}</translation>
    </message>
    <message>
        <source>Bank account ({country}) •••• {last4}</source>
        <translation>Bankrekening ({country}) •••• {last4}</translation>
    </message>
    <message>
        <source>Invoice (bank transfer)</source>
        <translation>Factuur (bankoverschrijving)</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation>Betalingsmethode</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Houder</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Verloopt</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Factuuradres</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Standaard</translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation>Standaard, verlopen</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Verlopen</translation>
    </message>
    <message>
        <source>Autopay and Pay balance charge the default method.</source>
        <translation>Automatische betaling en Saldo betalen belasten de standaardmethode.</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Betaalt op factuur (%n dag netto)</numerusform>
            <numerusform>Betaalt op factuur (%n dagen netto)</numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation>Corporate accounts worden gefactureerd volgens hun betalingstermijn; kaarten en bankrekeningen worden alleen gebruikt wanneer er een betaling wordt geregistreerd.</translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation>Verlengingsfacturen worden direct in rekening gebracht op de standaardbetalingsmethode.</translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation>Verlengingsfacturen blijven open totdat de klant ze betaalt.</translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation>Geen betalingsmethode geregistreerd.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Met uw rol kunt u dit account bekijken, maar niet wijzigen.</translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation>Een verlopen kaart kan niet de standaardmethode zijn.</translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation>Dit is al de standaardmethode.</translation>
    </message>
    <message>
        <source>Nothing was changed: {operator} changed this account at {time}. The list now shows the current data.</source>
        <translation>Er is niets gewijzigd: {operator} heeft dit account op {time} gewijzigd. De lijst toont nu de actuele gegevens.</translation>
    </message>
    <message>
        <source>Nothing was changed: this account was changed elsewhere. The list now shows the current data.</source>
        <translation>Er is niets gewijzigd: dit account is elders gewijzigd. De lijst toont nu de actuele gegevens.</translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation>{method} is toegevoegd.</translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation>{method} is nu de standaardbetalingsmethode.</translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation>Betalingsmethode verwijderen</translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation>{method} verwijderen uit dit account?</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Verwijderen</translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation>{method} is verwijderd.</translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation>Automatische betaling is ingeschakeld.</translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation>Automatische betaling is uitgeschakeld.</translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation>&amp;Automatische betaling: verlengingen in rekening brengen op de standaardbetalingsmethode</translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation>&amp;Kaart toevoegen…</translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation>Bank&amp;rekening toevoegen…</translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation>Als &amp;standaard instellen</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>&amp;Verwijderen…</translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation>&amp;Geregistreerde betalingsmethode gebruiken: {method}</translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation>Geldig btw-nummer: de btw is verlegd, er wordt geen btw in rekening gebracht (0 %).</translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation>Geldig btw-nummer: er wordt {rate} btw in rekening gebracht.</translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation>Betaling en btw</translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation>Voer uw betalingsgegevens in en/of voeg uw btw-nummer toe, en klik daarna op Bestelling plaatsen.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation>Betalingsmethode</translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation>Nieuwe &amp;kaart invoeren</translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation>&amp;Bankrekening invoeren (SEPA-incasso)</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Btw-nummer</translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation>Met een geldig btw-nummer uit een ander EU-land dan dat van de verkoper wordt de btw verlegd: er wordt geen btw berekend.</translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation>Btw-&amp;nummer:</translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation>bijv. NL123456789B01</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totaal</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Bestelling &amp;plaatsen</translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation>Er kan op dit moment geen wijziging worden aangebracht.</translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation>Corrigeer de keuze om de bestelling te zien.</translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation>Kies een ander plan, aantal licenties, andere factureringsfrequentie of add-on om te zien wat de wijziging kost.</translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation>De wijziging gaat vandaag in.</translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation>Plan:</translation>
    </message>
    <message>
        <source>{old} → {new}</source>
        <translation>{old} → {new}</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licenties:</translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation>Factureringsfrequentie:</translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation>Nieuwe factuurperiode:</translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation>Kosten voor de periode:</translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation>Tegoed voor ongebruikte dagen:</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (btw verlegd)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>Btw:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Nu te betalen:</translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation>Naar accounttegoed:</translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation>Op de controlepagina ziet u de exacte factuur.</translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Uw winkelwagen bevat %n product.</numerusform>
            <numerusform>Uw winkelwagen bevat %n producten.</numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation>Uw winkelwagen is leeg.</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Af&amp;rekenen</translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation>In &amp;winkelwagen</translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation>Product- of licentiewijziging voor account {account}</translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation>Selecteer uw plan</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation>De gratis proefperiode van {product} is afgelopen. Kies het planniveau, het aantal licenties en de factureringsfrequentie om een abonnement te nemen.</translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation>Kies het planniveau, het aantal licenties en de factureringsfrequentie van {product}.</translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation>Wijzig het plan van {product}: een hoger niveau, meer of minder licenties, een andere factureringsfrequentie of add-ons. Wijzigingen gaan vandaag in.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Aangevraagd door:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation>{name} &lt;{email}&gt; — contactpersoon facturering</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation>De contactpersoon die om de wijziging vroeg, vastgelegd bij de bestelling</translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation>U werkt met backofficebevoegdheden: er kan een lager planniveau worden gekozen, en de bestelling wordt vastgelegd als backofficewijziging.</translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation>Factureringsbeheerder &amp;e-mailen</translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation>Saldo &amp;betalen</translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation>Plan&amp;niveau</translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation>&amp;Licenties:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n licentie toegewezen aan gebruikers</numerusform>
            <numerusform>%n licenties toegewezen aan gebruikers</numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation>Licenties be&amp;heren</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Factureringsfrequentie</translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation>&amp;Maandelijks</translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation>&amp;Jaarlijks</translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation>A&amp;dd-ons</translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation>Besteloverzicht</translation>
    </message>
    <message>
        <source>Cart</source>
        <translation>Winkelwagen</translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation>Winkelwagen be&amp;kijken</translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation>{plan} — {price} (huidig plan)</translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation>{plan} — {price}</translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation>{addon} — {price} (inbegrepen)</translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation>{addon} — {price}</translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation>niet verkrijgbaar in {currency}</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. Each language by its own name (never translated: a reader looks for their own). The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation>Voer een databasebestand of een server-URL in.</translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation>Voer het volledige pad van het databasebestand in, niet {path}.</translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation>{path} is een map, geen databasebestand.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>De map {folder} bestaat niet.</translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation>Dit is geen database-URL. Schrijf deze als postgresql://gebruiker:wachtwoord@server:5432/database.</translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation>Een SQLite-database moet een bestand zijn.</translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation>{scheme}-databases worden niet ondersteund. Gebruik een SQLite-bestand of een PostgreSQL-server (postgresql://…).</translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation>De URL heeft een servernaam nodig na //.</translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation>De URL heeft een databasenaam nodig na de server (/database).</translation>
    </message>
</context>
<context>
    <name>PresentationController</name>
    <message>
        <source>&amp;Presentation</source>
        <extracomment>The scales offered, in per cent. dynamic properties holding a widget&apos;s unscaled sizes while the mode is on QFont::SizeResolved (PySide does not expose QFont::ResolveProperties) Class fonts a platform theme may set (QApplication&apos;s initializeWidgetFontHash). Qt&apos;s own helper buttons, sized by their owner: never rescaled MainWindow&apos;s navigation: item height = line height + this, width ≥ this minimum (the formula of ``MainWindow.__init__`` / ``_fit_navigation``) How often the customer view re-reads its account while shown (a moved clock). the caption shown now (&quot;&quot; when none) where the mouse was last pressed (window coordinates) keys that do something rather than type: named even in a text field typed text kept in a caption</extracomment>
        <translation>&amp;Presentatie</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>&amp;Presentatiemodus</translation>
    </message>
    <message>
        <source>Enlarge the whole window for a projector or a screen share</source>
        <translation>Het hele venster vergroten voor een projector of schermdeling</translation>
    </message>
    <message>
        <source>&amp;Scale</source>
        <translation>&amp;Schaal</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent} %</translation>
    </message>
    <message>
        <source>Show &amp;Clicks and Keys</source>
        <translation>&amp;Klikken en toetsen tonen</translation>
    </message>
    <message>
        <source>Show where the mouse is clicked and which keys are pressed</source>
        <translation>Tonen waar met de muis wordt geklikt en welke toetsen worden ingedrukt</translation>
    </message>
    <message>
        <source>C&amp;ustomer View</source>
        <translation>Klant&amp;weergave</translation>
    </message>
    <message>
        <source>Show the open account&apos;s Billing Center as its billing contact sees it</source>
        <translation>Het Billing Center van het geopende account tonen zoals de contactpersoon voor facturering het ziet</translation>
    </message>
    <message>
        <source>Customer View</source>
        <translation>Klantweergave</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation>Verlengingen worden uitgevoerd</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation>Account-ID {text}</translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation>Bedrijfsnaam {text}</translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation>Contactpersoon {text}</translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation>E-mailadres contactpersoon {text}</translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation>Factuur {text}</translation>
    </message>
    <message>
        <source>{account}  {company}</source>
        <translation>{account}  {company}</translation>
    </message>
    <message>
        <source>{account}, {company}, {match}</source>
        <translation>{account}, {company}, {match}</translation>
    </message>
</context>
<context>
    <name>QuickSearchDialog</name>
    <message>
        <source>Type an account ID, a company name, a contact&apos;s name or email, or an invoice number.</source>
        <extracomment>The user chose an account; carries its id.</extracomment>
        <translation>Typ een account-ID, een bedrijfsnaam, de naam of het e-mailadres van een contactpersoon, of een factuurnummer.</translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation>Geen account gevonden voor “{text}”.</translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>Het eerste gevonden account. Typ meer om de zoekopdracht te verfijnen.</numerusform>
            <numerusform>De eerste %n gevonden accounts. Typ meer om de zoekopdracht te verfijnen.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n account gevonden. Met Enter opent u het geselecteerde account.</numerusform>
            <numerusform>%n accounts gevonden. Met Enter opent u het geselecteerde account.</numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation>Account zoeken</translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation>Account-ID, bedrijf, naam of e-mailadres van contactpersoon, factuurnummer</translation>
    </message>
    <message>
        <source>Find account</source>
        <translation>Account zoeken</translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation>Gevonden accounts</translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation>Dit abonnement kan niet meer worden gevonden.</translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation>{product} is opnieuw geactiveerd: de proefperiode loopt door tot {date}. Er is een bevestigingsmail verzonden.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation>{product} is opnieuw geactiveerd. De volgende factuurdatum is {date}. Er is een bevestigingsmail verzonden.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation>{product} is opnieuw geactiveerd. Er is een bevestigingsmail verzonden.</translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation>Abonnement opnieuw activeren</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Opnieuw activeren</translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation>Annulering &amp;behouden</translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation>{product} opnieuw activeren?</translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation>De proefperiode loopt door tot {date}; deze wordt niet meer geannuleerd.</translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation>{product} wordt weer automatisch verlengd. De volgende factuurdatum is {date}.</translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation>{product} wordt weer automatisch verlengd.</translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation>Zonder heractivering verloopt het abonnement op {date}.</translation>
    </message>
</context>
<context>
    <name>RenewalsModel</name>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation>Verlenging op</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Bedrag</translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation>E-mail:</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>Rollen:</translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation>Contactpersoon facturering:</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Ja</translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation>Gemachtigd om te annuleren:</translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation>Ja, voor producten die via een vertegenwoordiger zijn gekocht</translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation>{product}: {rule}</translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation>Er is nog niets geselecteerd.</translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation>Kies de contactpersoon die de aanvraag doet om te zien of die dat mag.</translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation>{contact} mag de annulering van {product} niet aanvragen. {rule}</translation>
    </message>
    <message>
        <source>Requester</source>
        <translation>Aanvrager</translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation>Stap 2 van 6: welke contactpersoon vraagt de annulering aan, en mag die dat?</translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation>Alleen bepaalde rollen mogen support vragen een product te annuleren. Kies de contactpersoon die belt; de regel van elk te annuleren product wordt gecontroleerd.</translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation>Aanvragende &amp;contactpersoon:</translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation>Wie mag aanvragen</translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation>Kies een contactpersoon…</translation>
    </message>
    <message>
        <source>{name} ({roles}), {email}</source>
        <translation>{name} ({roles}), {email}</translation>
    </message>
</context>
<context>
    <name>ResultPage</name>
    <message numerus="yes">
        <source>%n item(s) cancelled. Auto-renewal is off.</source>
        <translation>
            <numerusform>%n item geannuleerd. Automatische verlenging is uitgeschakeld.</numerusform>
            <numerusform>%n items geannuleerd. Automatische verlenging is uitgeschakeld.</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation>actief tot {date}, nog gefactureerd: {amount}</translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation>{number}: {amount}, betaald met de geregistreerde betalingsmethode</translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation>{number}: {amount}, open (nog te betalen)</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Factuur voor vroegtijdige beëindiging:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Nu gefactureerd:</translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation>Niets: de huidige periode was al gefactureerd.</translation>
    </message>
    <message>
        <source>Email:</source>
        <translation>E-mail:</translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n bevestigingsmail verzonden naar {email}</numerusform>
            <numerusform>%n bevestigingsmails verzonden naar {email}</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Geannuleerd</translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation>De annulering is vastgelegd en de klant heeft een e-mail ontvangen.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Sluiten</translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation>Bestelling:</translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation>Factuur:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licentie (was {old})</numerusform>
            <numerusform>%n licenties (was {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licentie</numerusform>
            <numerusform>%n licenties</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}:</translation>
    </message>
    <message>
        <source>{plan}, {licences}, {billing}</source>
        <translation>{plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>Next billing date:</source>
        <translation>Volgende factuurdatum:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Totaal:</translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation>Nu in rekening gebracht:</translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation>{amount} op {method}</translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation>Te betalen uiterlijk {date}:</translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation>Bijgeschreven op accounttegoed:</translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation>Er is een bevestigingsmail met de details van uw aankoop verzonden naar {email}.</translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation>Uw abonnement is bijgewerkt. De factuurperiode begint vandaag en de factuurdatum valt nu op de dag van de wijziging.</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Bestelling geplaatst</translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation>De wijzigingen gaan direct in.</translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation>U hebt licenties toegevoegd: vergeet niet ze aan uw gebruikers toe te wijzen, zodat zij zich kunnen aanmelden.</translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation>Licenties nu toe&amp;wijzen</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <translation>Betalingsmethode: {method}</translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation>Bevestig hierna de betalingsgegevens en/of het btw-nummer.</translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation>Transactie voltooien</translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation>Controleer de factuurperiode (vanaf vandaag), de licenties, de planprijs en het totaal te betalen bedrag. Klik op Bestelling wijzigen om nog iets aan te passen.</translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation>Uw bestelling:</translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation>Bestelling &amp;wijzigen</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Af&amp;rekenen</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Bestelling &amp;plaatsen</translation>
    </message>
</context>
<context>
    <name>SandboxMenu</name>
    <message>
        <source>New Demo Database</source>
        <extracomment>open (or re-open) the database file at this path in the GUI session the open demo database&apos;s content was replaced (reset, snapshot restored) reset and snapshots copy the demo database&apos;s file: not for a demo on a server the actions in the File menu, in order</extracomment>
        <translation>Nieuwe demodatabase</translation>
    </message>
    <message>
        <source>Billing Desktop databases (*.sqlite3)</source>
        <translation>Billing Desktop-databases (*.sqlite3)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle bestanden (*)</translation>
    </message>
    <message>
        <source>“{file}” already exists. Replace it with a new demo database?</source>
        <translation>“{file}” bestaat al. Wilt u het vervangen door een nieuwe demodatabase?</translation>
    </message>
    <message>
        <source>If it is a demo database, everything done in it is replaced by the curated demo accounts. Any other file is left untouched.</source>
        <translation>Als het een demodatabase is, wordt alles wat erin is gedaan vervangen door de vooraf samengestelde demoaccounts. Elk ander bestand blijft ongewijzigd.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Vervangen</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>De demodatabase wordt aangemaakt…</translation>
    </message>
    <message>
        <source>Everything done in it is lost: orders, cancellations, licence and payment changes, emails and operators added.</source>
        <translation>Alles wat erin is gedaan, gaat verloren: bestellingen, annuleringen, wijzigingen in licenties en betalingen, e-mails en toegevoegde medewerkers.</translation>
    </message>
    <message>
        <source>The simulated date goes back from {today} to {start}.</source>
        <translation>De gesimuleerde datum gaat terug van {today} naar {start}.</translation>
    </message>
    <message>
        <source>The simulated date stays at {start}.</source>
        <translation>De gesimuleerde datum blijft {start}.</translation>
    </message>
    <message>
        <source>Snapshots are kept.</source>
        <translation>Momentopnamen blijven behouden.</translation>
    </message>
    <message>
        <source>Reset Demo Database</source>
        <translation>Demodatabase resetten</translation>
    </message>
    <message>
        <source>Reset the demo database “{database}” to the curated demo accounts?</source>
        <translation>De demodatabase “{database}” resetten naar de vooraf samengestelde demoaccounts?</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>&amp;Resetten</translation>
    </message>
    <message>
        <source>Resetting the demo database…</source>
        <translation>De demodatabase wordt gereset…</translation>
    </message>
    <message>
        <source>&amp;New Demo Database…</source>
        <translation>&amp;Nieuwe demodatabase…</translation>
    </message>
    <message>
        <source>Create a fresh demo database with the curated sample accounts and open it</source>
        <translation>Een nieuwe demodatabase met de vooraf samengestelde voorbeeldaccounts aanmaken en openen</translation>
    </message>
    <message>
        <source>&amp;Reset Demo Database…</source>
        <translation>Demodatabase &amp;resetten…</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>Resetten…</translation>
    </message>
    <message>
        <source>Return the demo database to the curated accounts of its first day</source>
        <translation>De demodatabase terugzetten naar de vooraf samengestelde accounts van de eerste dag</translation>
    </message>
    <message>
        <source>Sna&amp;pshots…</source>
        <translation>&amp;Momentopnamen…</translation>
    </message>
    <message>
        <source>Snapshots…</source>
        <translation>Momentopnamen…</translation>
    </message>
    <message>
        <source>Save the demo database&apos;s state under a name and return to it later</source>
        <translation>De toestand van de demodatabase onder een naam opslaan en er later naar terugkeren</translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n licentie</numerusform>
            <numerusform>{product} {plan}, %n licenties</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation>Kan alleen via support worden geannuleerd.</translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation>De contactpersoon voor facturering kan het ook online annuleren.</translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation>Add-on: {addon}</translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation>Eindigt samen met het product.</translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation>Met deze selectie is nog niet voldaan aan deze voorwaarden: {conditions}. Ga terug om ze op te lossen, of wijzig de selectie.</translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation>Wat er wordt geannuleerd</translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation>Stap 4 van 6: de producten en add-ons die de beller wil annuleren.</translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation>Vink elk product en elke add-on aan die moet worden geannuleerd. De add-ons van een product eindigen samen met het product; een add-on kan ook afzonderlijk worden geannuleerd.</translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation>Vul de bedrijfsnaam in.</translation>
    </message>
    <message>
        <source>Choose the account type.</source>
        <translation>Kies het accounttype.</translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation>Vul de straat en het huisnummer in.</translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation>Vul de postcode in.</translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation>Vul de plaats in.</translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation>Kies het land.</translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation>Kies de taal.</translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation>Kies de valuta.</translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation>Dit veld is langer dan {max} tekens.</translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation>{value} is geen accounttype.</translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation>Documenten kunnen niet worden opgesteld in {language}.</translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation>De valuta van account {account} kan niet worden gewijzigd: het account heeft al facturen of tegoed in {currency}.</translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation>De catalogus heeft geen prijzen in {currency}.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation>Corporate accounts betalen op factuur: schakel automatische betaling uit voor account {account} (Betalingsmethoden) voordat u er een corporate account van maakt.</translation>
    </message>
    <message>
        <source>The account</source>
        <translation>Het account</translation>
    </message>
    <message>
        <source>Account</source>
        <extracomment>Entries per page unless the caller asks for another size. The most one call returns, whatever ``limit`` says. the field did not exist before (a creation) / does not exist after (a removal) the product of the subscription the entry is about, if any the account&apos;s currency, for fields holding minor units (``…_minor``) fields whose value changed, in the order they were recorded
----------
``session.info`` key: the id of the account the use case loaded first ``session.info`` key: rows whose version must move on with the transaction&apos;s writes :func:`last_change` key for the operators&apos; own changes (audited without an account)
----------
Subscription statuses that are &quot;bought&quot; and can be changed through checkout. ids of the stored items making up this line (to remove the line) pass back as ``expected_cart_version``; ``None`` while the account has no cart the stored row this change is (None: not stored yet) set: the add-on was cancelled and ends on this date (see cancellation) licences assigned to contacts in the order of ``Subscription.addons`` (by add-on) by id, as ``Account.contacts`` and ``Account.payment_methods`` by position (ORM attributes: a session executing it flushes pending changes first) every subscription of the account with its product, plan, assigned licences and add-ons (one row per add-on)</extracomment>
        <translation>Account</translation>
    </message>
    <message>
        <source>Only support staff can do this.</source>
        <extracomment>reset a demo database, save, restore and delete its snapshots (services.sandbox) Read-only actions every active role may perform. Actions that change one account; the account rules of SPEC §6 apply. Support-only powers behind the self-service flows (SPEC §3): not for representatives, who work on their own portfolio through the normal flows.</extracomment>
        <translation>Alleen supportmedewerkers kunnen dit doen.</translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation>Uw rol ({role}) staat deze actie niet toe.</translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation>De klok kan alleen in een demodatabase worden verzet.</translation>
    </message>
    <message>
        <source>Only a demo database can be reset or returned to a snapshot; this database was left unchanged.</source>
        <translation>Alleen een demodatabase kan worden gereset of teruggezet naar een momentopname; deze database is ongewijzigd gelaten.</translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the range</extracomment>
        <translation>Abonnement</translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation>Account {account} heeft geen contactpersoon voor facturering.</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Contactpersoon</translation>
    </message>
    <message>
        <source>The subscription</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation>Het abonnement</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``) &quot;To move to a lower plan, contact Customer Care&quot; when the product has a lower tier that cannot be chosen online and the contact may otherwise edit the plan whom the view is shown as (the billing contact unless another was asked for) every contact of the account, the billing contact first the message above the cards when this contact cannot make changes at all (representative, billing admin, overdue invoice, expired account); ``None`` otherwise the live products (cancelled ones are under ``discover``), in catalog order what the open invoices still ask for (the Billing Center&apos;s *Pay balance*) The role of the rules context: one that no operator-role limit refuses, so the Subscriptions tab&apos;s card function reports only what the account&apos;s state decides.</extracomment>
        <translation>{product} kan niet online worden geannuleerd. Neem contact op met support om te annuleren.</translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation>{product} heeft geen annulering in behandeling die kan worden teruggedraaid.</translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation>{product} is verlopen op {effective_end} en kan niet meer opnieuw worden geactiveerd. Neem in plaats daarvan opnieuw een abonnement.</translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation>De resterende maanden van {product} zijn gefactureerd op factuur {invoice} voor vroegtijdige beëindiging; het abonnement kan pas opnieuw worden geactiveerd nadat support die factuur ongeldig heeft gemaakt.</translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation>De annulering kan pas doorgaan als aan deze voorwaarden is voldaan: {conditions}.</translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation>{product} is al geannuleerd; het eindigt op {effective_end}.</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation>{product} kan niet worden geannuleerd: het is niet meer actief.</translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation>Kies een reden voor de annulering.</translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation>{reason} is geen van de annuleringsredenen.</translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation>Beschrijf de reden voor de annulering.</translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation>De reden mag maximaal {maximum} tekens lang zijn.</translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation>{product} heeft geen huidige factuurperiode.</translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation>De overeenkomst is niet ten minste 30 dagen vóór het einde ({term_end}) geannuleerd en wordt dus met een nieuwe termijn verlengd: deze blijft actief, en wordt gefactureerd, tot {effective_end}.</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Add-on</translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation>Kies minstens één product of add-on om te annuleren.</translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation>{addon} is al geannuleerd.</translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation>{addon} kan tijdens een proefperiode niet afzonderlijk worden geannuleerd.</translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation>De gegevens van de beller kwamen niet overeen ({items}); verifieer de beller opnieuw.</translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation>De beller is nog niet geverifieerd.</translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation>De verificatie is niet geldig voor dit account of is verlopen; verifieer de beller opnieuw.</translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation>De beller is geverifieerd om {at}.</translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation>Kies de contactpersoon die de annulering aanvraagt.</translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation>{contact} mag deze annulering aanvragen.</translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation>Het account heeft een openstaand saldo van {amount}; dit moet vóór de annulering worden betaald.</translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation>Er staat niets open op het account.</translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation>Neem met de beller het contracttype, de einddatum en de annuleringsvoorwaarden van elk product door.</translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation>Er zijn nog {count} licenties toegewezen aan gebruikers ({products}); trek ze eerst in.</translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation>Er zijn geen licenties toegewezen aan gebruikers.</translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation>De beller heeft bevestigd dat er een back-up van de gegevens is gemaakt.</translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation>Laat bevestigen dat er een back-up van de gegevens van de klant is gemaakt; bied een export van de accountgegevens aan.</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>Account-ID</translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation>E-mailadres factureringsbeheerder</translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation>Laatste vier cijfers van de betalingsmethode</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Factuuradres</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Postcode</translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation>Beller geverifieerd</translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation>Aanvrager mag annuleren</translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation>Geen openstaand saldo</translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation>Contractvoorwaarden doorgenomen</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licenties ingetrokken</translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation>Back-up van gegevens gemaakt</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Beller verifiëren</translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation>Andere contactpersoon kiezen</translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation>Betaling registreren</translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation>Licenties intrekken</translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation>Accountgegevens exporteren</translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled) added by the order: new ones, or cancelled ones again cancelled add-ons added again that are paid for the current period: credited for its unused days like the running ones (the new period bills them again); one not added again simply runs out at its ``ends_on``, neither credited nor billed</extracomment>
        <translation>{frequency} is geen factureringsfrequentie.</translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation>{product} heeft geen plan {plan}.</translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation>{product} heeft geen add-on {addon}.</translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation>Het aantal licenties moet een geheel getal zijn.</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation>{kind} is geen soort winkelwagenitem.</translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation>Het abonnement is geen plan van {product}.</translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation>{product} is beëindigd. Neem opnieuw een abonnement om het te gebruiken.</translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation>{product} wordt geannuleerd. Activeer het opnieuw voordat u het plan wijzigt.</translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation>Er is al een abonnement op {product}. Wijzig het abonnement om het aan te passen.</translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation>{product} bevat {addon} al.</translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation>Kies de nieuwe waarde voor {product}.</translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation>Dit wijzigt het abonnement niet.</translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation>Neem contact op met uw vertegenwoordiger {name} om product- of licentiewijzigingen door te voeren</translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation>Account {account} is gesloten.</translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation>{product} {plan} kan niet in {currency} worden gekocht.</translation>
    </message>
    <message>
        <source>The cart</source>
        <translation>De winkelwagen</translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation>Winkelwagenitem</translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited the version of the subscription as priced (``None``: a new subscription); see :attr:`OrderPreview.subscription_versions` version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to charge exactly the method shown, even if the default changed since corporate: invoiced on payment terms instead of charged the account data the figures were computed with: pass it to ``place_order(expected_account_terms=...)`` so that the order is refused (:class:`ConflictError`) if one of them changed since this preview licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them ``next_period`` (a pure function of its arguments; its periods are immutable)</extracomment>
        <translation>Voer een kaart of bankrekening in: er is geen geldige betalingsmethode geregistreerd.</translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation>Bevestig de betalingsmethode voor het nieuwe abonnement.</translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation>Bevestig de betalingsmethode: het nieuwe plan kost meer.</translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation>Voeg het btw-nummer toe als het bedrijf er een heeft; zonder btw-nummer wordt {rate} % btw ({country}) in rekening gebracht.</translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation>De gratis proefperiode van {product} eindigt vandaag in plaats van op {trial_end}: het betaalde abonnement gaat nu in.</translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation>Voor {product} blijft de overeenkomst met vaste looptijd gelden tot {term_end}.</translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation>Wijs na de bestelling de nieuwe licenties voor {product} toe aan gebruikers.</translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation>{amount} wordt bijgeschreven als accounttegoed en verrekend met latere facturen.</translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation>De bestelling wordt gefactureerd, te betalen binnen {days} dagen.</translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation>De inkooporder {po} is verlopen op {expiry}.</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation>De winkelwagen is leeg: er is niets te bestellen.</translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>the SET clause comes from the values given (always the same columns) moves the version of a subscription the order checked but did not otherwise update checks (and locks) an account row the order does not otherwise change at its version</extracomment>
        <translation>Het ordertoken moet 1 tot {max} tekens lang zijn.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)</extracomment>
        <translation>Betalingsmethode</translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation>{method} kan niet worden belast: kies een andere betalingsmethode.</translation>
    </message>
    <message>
        <source>The order</source>
        <translation>De bestelling</translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation>Dit ordertoken is al voor een andere bestelling gebruikt.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation>Corporate accounts betalen op factuur volgens hun betalingstermijn, niet met een kaart.</translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation>De klok kan alleen vooruit: {date} ligt vóór de huidige datum {today}.</translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation>Factuur</translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation>{what} {key} is niet gevonden en is mogelijk verwijderd.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} at {changed_at} — reload to see the current data. Your input is kept.</source>
        <translation>{what} is op {changed_at} gewijzigd door {changed_by} — laad opnieuw om de actuele gegevens te zien. Uw invoer blijft bewaard.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} in the meantime — reload to see the current data. Your input is kept.</source>
        <translation>{what} is intussen gewijzigd door {changed_by} — laad opnieuw om de actuele gegevens te zien. Uw invoer blijft bewaard.</translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation>{what} is intussen door iemand anders gewijzigd; laad opnieuw om de actuele gegevens te zien. Uw invoer blijft bewaard.</translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation>De export kon niet worden geschreven naar {path}: {reason}</translation>
    </message>
    <message>
        <source>The invoice</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>De factuur</translation>
    </message>
    <message>
        <source>The invoice recipients</source>
        <translation>De lijst met factuurontvangers</translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation>Vul de {what} in.</translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation>De {what} is langer dan {max} tekens.</translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation>{status} is geen factuurstatus.</translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation>toelichting bij de betwisting</translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation>Factuur {invoice} is ongeldig en kan niet worden betwist.</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>reden</translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation>Alleen openstaande facturen kunnen ongeldig worden gemaakt; {invoice} is {status}.</translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation>Op factuur {invoice} zijn betalingen geregistreerd; de factuur kan niet ongeldig worden gemaakt.</translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation>{email} is geen geldig e-mailadres.</translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation>Facturen kunnen naast de contactpersoon voor facturering naar maximaal {max} adressen worden gestuurd; er zijn er {count} opgegeven.</translation>
    </message>
    <message>
        <source>The licence assignments</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>De toewijzing van licenties</translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). the subscription&apos;s version, for ``expected_version`` of assign/unassign contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op) the subscription&apos;s version after the call (for the next ``expected_version``)</extracomment>
        <translation>{value} is geen contact-ID.</translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation>{contact} is een contactpersoon van een ander account en kan geen licentie van account {account} hebben.</translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation>Licenties van {product} kunnen niet worden toegewezen: het abonnement is {status}.</translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation>Slechts {free} van de {licences} licenties van {product} zijn vrij; er zouden {requested} contactpersonen worden toegewezen. Koop meer licenties of trek er eerst enkele in.</translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>The roles an operator can have, most powerful first (SPEC §6). At most this many corporate accounts per list (the search narrows it down). has a password, so can sign in to a shared database sign-in refused until then after repeated failures (None: not locked) corporate accounts assigned to this operator as representative
----------
``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation>Medewerker</translation>
    </message>
    <message>
        <source>You are no longer an active administrator of this database; sign in again to continue.</source>
        <translation>U bent geen actieve beheerder van deze database meer; meld u opnieuw aan om verder te gaan.</translation>
    </message>
    <message>
        <source>{name} is the last active administrator. Make another operator an administrator first.</source>
        <translation>{name} is de laatste actieve beheerder. Maak eerst een andere medewerker beheerder.</translation>
    </message>
    <message>
        <source>{role} is not an operator role.</source>
        <translation>{role} is geen rol voor medewerkers.</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>U kunt uzelf niet uitschakelen; een andere beheerder kan dat wel.</translation>
    </message>
    <message>
        <source>Only corporate accounts have a representative; {account} is a standard account.</source>
        <translation>Alleen corporate accounts hebben een vertegenwoordiger; {account} is een standaardaccount.</translation>
    </message>
    <message>
        <source>{name} is not a representative. Only operators with the role Representative can be assigned corporate accounts.</source>
        <translation>{name} is geen vertegenwoordiger. Alleen medewerkers met de rol Vertegenwoordiger kunnen corporate accounts toegewezen krijgen.</translation>
    </message>
    <message>
        <source>{name} is disabled and cannot be assigned accounts.</source>
        <translation>{name} is uitgeschakeld en kan geen accounts toegewezen krijgen.</translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation>Vul uw naam in.</translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation>De naam mag maximaal {max} tekens lang zijn.</translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation>Uw identiteit als medewerker</translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation>Een andere medewerker gebruikt het e-mailadres {email} al.</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>The payment methods</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>De lijst met betalingsmethoden</translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation>Vul de naam van de rekeninghouder in.</translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation>De naam van de houder is langer dan {max} tekens.</translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation>De kaart {method} is verlopen in {month:02d}/{year}; voeg een nieuwe kaart toe.</translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation>{country} is geen landcode van twee letters (bijv. NL, IT).</translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation>Een adresveld is langer dan {max} tekens.</translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation>{method} is de enige betalingsmethode van account {account}, dat zijn abonnementen automatisch betaalt. Voeg eerst een andere betalingsmethode toe of schakel automatische betaling uit.</translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation>Corporate account {account} betaalt op factuur volgens de betalingstermijn; automatische betaling kan niet worden ingeschakeld.</translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation>Voeg een kaart of bankrekening toe aan account {account} voordat u automatische betaling inschakelt.</translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation>De betalingsreferentie is langer dan {max} tekens.</translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation>Account {account} hoeft niets te betalen.</translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation>Account {account} wordt gefactureerd in {currency}; een betaling in {other} kan niet worden geregistreerd.</translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation>Een betaling moet groter zijn dan nul.</translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the subscription, or None for an overdue event (which concerns the account) the renewal invoice issued (renewals), and its status (``paid`` or ``open``) that invoice&apos;s total the email queued for it (trial ending, trial ended, renewal invoice) renewals: the end of the period (or term) now running; None when none follows overdue events: how many open invoices fell overdue the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None every event processed, in processing order (only with ``advance(details=True)``) ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) the event it is the outcome of (set by ``_Engine._apply``) the email each kind of event queues (when its outcome counts one) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation>Op een echte database kunnen verlengingen alleen tot en met vandaag ({today}) worden uitgevoerd, niet tot {date}.</translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation>{product} is niet verkrijgbaar in {currency}.</translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused), if any: translatable why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text`` when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation>De verbindingsbeveiliging moet Geen, STARTTLS of SSL/TLS zijn.</translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation>{host} is geen geldige servernaam.</translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>De poort moet een getal van 1 tot en met 65535 zijn.</translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation>Het afzenderadres {address} is geen geldig e-mailadres.</translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation>Voor een wachtwoord is een gebruikersnaam nodig.</translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation>De time-out moet tussen 1 en 600 seconden liggen.</translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <translation>De server {server} heeft de gebruikersnaam of het wachtwoord geweigerd ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation>De server heeft de ontvanger {address} geweigerd ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation>De server heeft het afzenderadres {address} geweigerd ({reply}).</translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation>De server {server} ondersteunt de gekozen verbindingsbeveiliging of aanmeldmethode niet ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation>De server {server} heeft de verbinding verbroken ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation>De server {server} antwoordde: {reply}.</translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation>De beveiligde verbinding met {server} is mislukt ({detail}).</translation>
    </message>
    <message>
        <source>The email has no recipient address.</source>
        <translation>De e-mail heeft geen ontvangeradres.</translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation>De server {server} heeft niet binnen {seconds} seconden geantwoord.</translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation>De servernaam {host} kan niet worden gevonden ({detail}).</translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation>Er reageert niets op {server}. Controleer of de mailserver actief is en of de servernaam en de poort kloppen.</translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation>Kan geen verbinding maken met {server} ({detail}).</translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation>Verzenden mislukt ({detail}).</translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation>Vul eerst de naam van de mailserver in.</translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation>{address} is geen geldig e-mailadres voor de testmail.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation>De gratis proefperiode van {product} is afgelopen. Klik op Nu abonneren om een plan te kopen.</translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation>Nu abonneren wordt aangeboden wanneer een gratis proefperiode is afgelopen; de proefperiode van {product} is niet afgelopen.</translation>
    </message>
    <message>
        <source>{database} is not a demo database. Resets, snapshots and new demo data are only for demo databases; it was left unchanged.</source>
        <extracomment>seconds a reset or restore waits for another connection&apos;s write to finish</extracomment>
        <translation>{database} is geen demodatabase. Resetten, momentopnamen en nieuwe demogegevens zijn alleen bedoeld voor demodatabases; de database is ongewijzigd gelaten.</translation>
    </message>
    <message>
        <source>The demo database {database} is busy with another change. Wait until it has finished and try again; nothing was replaced.</source>
        <translation>De demodatabase {database} is bezig met een andere wijziging. Wacht tot die klaar is en probeer het opnieuw; er is niets vervangen.</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists.</source>
        <translation>Er bestaat al een momentopname met de naam “{name}”.</translation>
    </message>
    <message>
        <source>Demo databases and snapshots need a database file; {database} is on a server.</source>
        <translation>Demodatabases en momentopnamen hebben een databasebestand nodig; {database} staat op een server.</translation>
    </message>
    <message>
        <source>The snapshot “{name}” cannot be restored: its file is missing, damaged or from another version of Billing Desktop. The demo database was left unchanged.</source>
        <translation>De momentopname “{name}” kan niet worden teruggezet: het bestand ontbreekt, is beschadigd of komt van een andere versie van Billing Desktop. De demodatabase is ongewijzigd gelaten.</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <extracomment>the &quot;what&quot; of NotFound for a snapshot, translated by the UI</extracomment>
        <translation>Momentopname</translation>
    </message>
    <message>
        <source>Give the snapshot a name.</source>
        <extracomment>the file&apos;s name inside :func:`snapshot_folder` when it was saved (the computer&apos;s clock) the demo&apos;s simulated date at that moment</extracomment>
        <translation>Geef de momentopname een naam.</translation>
    </message>
    <message>
        <source>A snapshot name can have at most {max} characters.</source>
        <translation>De naam van een momentopname mag maximaal {max} tekens lang zijn.</translation>
    </message>
    <message>
        <source>This is a real database: it has no simulated time, so its clock cannot be moved. Open a demo database to move the clock.</source>
        <extracomment>how far one move may take the clock: a date years away would run every renewal of every year on the way (and dates near 9999 cannot be computed at all) the events &quot;to next event&quot; stops at (issue 7: renewal, trial end, cancellation end, term end); notices, overdue invoices and data retention happen on the way</extracomment>
        <translation>Dit is een echte database: deze heeft geen gesimuleerde tijd, dus de klok kan niet worden verzet. Open een demodatabase om de klok te verzetten.</translation>
    </message>
    <message>
        <source>The clock only moves forward: choose a date after {today}, not {date}.</source>
        <extracomment>what each engine event appears as (a renewal also as an invoice and an email) invoiced (and renewed): the invoice, its status (``paid``/``open``) and total renewed / term renewed: the end of the new period or term (None: the last one) emailed: the email&apos;s kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``), its recipient and row id overdue: how many of the account&apos;s invoices fell overdue that day the date before the move … … the date asked for … … and the date now (the one asked for, unless the run was cancelled midway) the trainer cancelled: what was done until then is kept, the clock stopped at ``clock`` events that failed (left out, retried by the next move) the engine&apos;s own summary (counts) the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order renewals: the total of the invoice it will issue (as things stand now)</extracomment>
        <translation>De klok gaat alleen vooruit: kies een datum na {today}, niet {date}.</translation>
    </message>
    <message>
        <source>The clock moves at most {years} years at a time: choose a date until {latest}, not {date}.</source>
        <translation>De klok gaat maximaal {years} jaar per keer vooruit: kies een datum tot en met {latest}, niet {date}.</translation>
    </message>
    <message>
        <source>The email address or the password is not correct.</source>
        <extracomment>Seconds every refused attempt waits before it answers. Consecutive wrong passwords that lock the operator. The first lock; each further wrong password doubles it … … up to this. Long passphrases are welcome; this only keeps a pasted file out. OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations. ``app_settings`` key written with the first administrator: a second concurrent :func:`create_first_admin` fails on its primary key.</extracomment>
        <translation>Het e-mailadres of het wachtwoord is onjuist.</translation>
    </message>
    <message>
        <source>This operator has been disabled. Ask an administrator to enable it again.</source>
        <translation>Dit medewerkersaccount is uitgeschakeld. Vraag een beheerder om het weer in te schakelen.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins. Try again in {minutes} min.</source>
        <translation>Te veel mislukte aanmeldpogingen. Probeer het over {minutes} min. opnieuw.</translation>
    </message>
    <message>
        <source>This database already has an administrator. Sign in with your email address and password, or ask an administrator to create your operator.</source>
        <translation>Deze database heeft al een beheerder. Meld u aan met uw e-mailadres en wachtwoord, of vraag een beheerder om een medewerkersaccount voor u aan te maken.</translation>
    </message>
    <message>
        <source>The password must have at least {min} characters.</source>
        <extracomment>Passwords long enough but guessed first by anyone (folded, without spaces).</extracomment>
        <translation>Het wachtwoord moet minstens {min} tekens bevatten.</translation>
    </message>
    <message>
        <source>The password may have at most {max} characters.</source>
        <translation>Het wachtwoord mag maximaal {max} tekens bevatten.</translation>
    </message>
    <message>
        <source>The password must not be the email address.</source>
        <translation>Het wachtwoord mag niet het e-mailadres zijn.</translation>
    </message>
    <message>
        <source>The password must not be the operator&apos;s name.</source>
        <translation>Het wachtwoord mag niet de naam van de medewerker zijn.</translation>
    </message>
    <message>
        <source>This password is too easy to guess. A few unrelated words make a good password.</source>
        <translation>Dit wachtwoord is te makkelijk te raden. Een paar woorden die niets met elkaar te maken hebben, vormen een goed wachtwoord.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>&amp;System</source>
        <translation>&amp;Systeem</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>&amp;Licht</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>&amp;Donker</translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation>Het uiterlijk en de kleuren van uw bureaublad.</translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation>Donkere tekst op lichte achtergronden.</translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation>Lichte tekst op donkere achtergronden, prettiger &apos;s avonds.</translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation>Geen (onversleuteld)</translation>
    </message>
    <message>
        <source>STARTTLS</source>
        <translation>STARTTLS</translation>
    </message>
    <message>
        <source>SSL/TLS</source>
        <translation>SSL/TLS</translation>
    </message>
    <message>
        <source>Settings</source>
        <extracomment>The user chose another database (a file path or a URL); switch to it now. The language was applied (&quot;it&quot;; &quot;&quot; for the system&apos;s language). The theme was applied (&quot;system&quot;, &quot;light&quot;, &quot;dark&quot;). The operator&apos;s name or email changed; carries the new ``OperatorInfo``.</extracomment>
        <translation>Instellingen</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Instellingenpagina&apos;s</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Creating the administrator…</source>
        <extracomment>QSettings key: the email of the last operator who signed in on this computer the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts the machine&apos;s time (whole seconds, as the services&apos; system clock) the signed-in operator once the dialog accepted</extracomment>
        <translation>Beheerder wordt aangemaakt…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Bezig met aanmelden…</translation>
    </message>
    <message>
        <source>Enter your name, email address and a password.</source>
        <translation>Vul uw naam, e-mailadres en een wachtwoord in.</translation>
    </message>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <translation>De twee wachtwoorden komen niet overeen; typ het opnieuw.</translation>
    </message>
    <message>
        <source>Enter your email address and password.</source>
        <translation>Vul uw e-mailadres en wachtwoord in.</translation>
    </message>
    <message>
        <source>The database server did not answer. Check the network connection and try again.</source>
        <translation>De databaseserver heeft niet geantwoord. Controleer de netwerkverbinding en probeer het opnieuw.</translation>
    </message>
    <message>
        <source>Sign In — Billing Desktop</source>
        <translation>Aanmelden — Billing Desktop</translation>
    </message>
    <message>
        <source>Set up the first administrator</source>
        <translation>De eerste beheerder instellen</translation>
    </message>
    <message>
        <source>Nobody can sign in to this shared database yet. Create the first administrator: you sign in with this email address and password, and can then add the other operators.</source>
        <translation>Nog niemand kan zich aanmelden bij deze gedeelde database. Maak de eerste beheerder aan: u meldt zich aan met dit e-mailadres en wachtwoord en kunt daarna de andere medewerkers toevoegen.</translation>
    </message>
    <message>
        <source>Create &amp;Administrator</source>
        <translation>&amp;Beheerder aanmaken</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Aanmelden</translation>
    </message>
    <message>
        <source>This database is shared by a team. Sign in with your operator account.</source>
        <translation>Deze database wordt door een team gedeeld. Meld u aan met uw medewerkersaccount.</translation>
    </message>
    <message>
        <source>&amp;Sign In</source>
        <translation>&amp;Aanmelden</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Database: {name}</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Naam:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;E-mailadres:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Wachtwoord:</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>Wachtwoord &amp;herhalen:</translation>
    </message>
    <message>
        <source>At least {count} characters, not your email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Minstens {count} tekens, niet uw e-mailadres. Een paar woorden die niets met elkaar te maken hebben, vormen een goed wachtwoord dat makkelijk te onthouden is.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>Af&amp;sluiten</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuleren</translation>
    </message>
</context>
<context>
    <name>SmtpPage</name>
    <message>
        <source>Mail server</source>
        <translation>Mailserver</translation>
    </message>
    <message>
        <source>Billing Desktop test email</source>
        <translation>Testmail van Billing Desktop</translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation>Dit is een testmail van Billing Desktop.

Deze is aangekomen, dus de instellingen van de mailserver werken: e-mails aan klanten worden verzonden via {server}.</translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation>De testmail wordt verzonden…</translation>
    </message>
    <message>
        <source>Test email</source>
        <translation>Testmail</translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation>Er wordt een testmail verzonden naar {address}…</translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation>De testmail is verzonden naar {address}. Controleer of deze is aangekomen.</translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation>De test is geannuleerd.</translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation>Corrigeer de bovenstaande instellingen en verzend de test opnieuw.</translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation>Mailserver (SMTP)</translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation>Ser&amp;ver:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Poort:</translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation>&amp;Beveiliging:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>&amp;Gebruikersnaam:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>&amp;Wachtwoord:</translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation>&amp;Afzenderadres:</translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation>&amp;Time-out:</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation> s</translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation>Laat leeg om e-mails onverzonden in het postvak Uit te houden.</translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation>leeg als de server geen aanmelding vereist</translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation>Met uw rol kunt u de mailserver niet wijzigen; vraag dit aan een beheerder.</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Test</translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation>Verzenden &amp;naar:</translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation>T&amp;estmail verzenden</translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation>Eén e-mail verzenden met de bovenstaande instellingen, opgeslagen of niet</translation>
    </message>
</context>
<context>
    <name>SnapshotsDialog</name>
    <message>
        <source>Save Current State</source>
        <extracomment>a value to sort by (text, datetime or ISO date) a snapshot was restored into the open database (carries its ``SnapshotInfo``)</extracomment>
        <translation>Huidige toestand opslaan</translation>
    </message>
    <message>
        <source>Name of the snapshot:</source>
        <translation>Naam van de momentopname:</translation>
    </message>
    <message>
        <source>State on {date}</source>
        <translation>Toestand op {date}</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Opslaan</translation>
    </message>
    <message>
        <source>Saved the snapshot “{name}”.</source>
        <translation>Momentopname “{name}” is opgeslagen.</translation>
    </message>
    <message>
        <source>Replace Snapshot</source>
        <translation>Momentopname vervangen</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists. Replace it with the current state?</source>
        <translation>Er bestaat al een momentopname met de naam “{name}”. Wilt u deze vervangen door de huidige toestand?</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Vervangen</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot. The simulated date goes back to {date}.</source>
        <translation>Alles wat sinds het opslaan ervan is gedaan, gaat verloren, tenzij het in een andere momentopname staat. De gesimuleerde datum gaat terug naar {date}.</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot.</source>
        <translation>Alles wat sinds het opslaan ervan is gedaan, gaat verloren, tenzij het in een andere momentopname staat.</translation>
    </message>
    <message>
        <source>Restore Snapshot</source>
        <translation>Momentopname terugzetten</translation>
    </message>
    <message>
        <source>Return the demo database to the snapshot “{name}”?</source>
        <translation>De demodatabase terugzetten naar de momentopname “{name}”?</translation>
    </message>
    <message>
        <source>&amp;Restore</source>
        <translation>&amp;Terugzetten</translation>
    </message>
    <message>
        <source>Delete Snapshot</source>
        <translation>Momentopname verwijderen</translation>
    </message>
    <message>
        <source>Delete the snapshot “{name}”?</source>
        <translation>De momentopname “{name}” verwijderen?</translation>
    </message>
    <message>
        <source>The demo database itself does not change.</source>
        <translation>De demodatabase zelf verandert niet.</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Verwijderen</translation>
    </message>
    <message>
        <source>Deleted the snapshot “{name}”.</source>
        <translation>Momentopname “{name}” is verwijderd.</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>Momentopnamen</translation>
    </message>
    <message>
        <source>A snapshot keeps the demo database as it is now, so you can return to it and repeat a scene.</source>
        <translation>Een momentopname bewaart de demodatabase zoals deze nu is, zodat u ernaar kunt terugkeren en een scène kunt herhalen.</translation>
    </message>
    <message>
        <source>No snapshots yet. Save the current state to come back to it later.</source>
        <translation>Nog geen momentopnamen. Sla de huidige toestand op om er later naar terug te keren.</translation>
    </message>
    <message>
        <source>&amp;Save Current State…</source>
        <translation>Huidige toestand &amp;opslaan…</translation>
    </message>
    <message>
        <source>Only administrators and trainers can save and restore snapshots.</source>
        <translation>Alleen beheerders en trainers kunnen momentopnamen opslaan en terugzetten.</translation>
    </message>
</context>
<context>
    <name>SnapshotsModel</name>
    <message>
        <source>Name</source>
        <translation>Naam</translation>
    </message>
    <message>
        <source>Taken</source>
        <translation>Gemaakt</translation>
    </message>
    <message>
        <source>Simulated date</source>
        <translation>Gesimuleerde datum</translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation>Geen terugbetaling: wat al is gefactureerd, wordt niet terugbetaald, en de producten blijven bruikbaar tot de bovenstaande datums.</translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation>De proefperiode eindigt gewoon op {date}; er wordt niets gefactureerd.</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>Bij annulering vóór het einde van de overeenkomst worden de resterende maanden nog gefactureerd: de huidige, al gefactureerde periode en nog %n maand op een factuur voor vroegtijdige beëindiging. Het abonnement blijft actief tot de oorspronkelijke einddatum, {date}.</numerusform>
            <numerusform>Bij annulering vóór het einde van de overeenkomst worden de resterende maanden nog gefactureerd: de huidige, al gefactureerde periode en nog %n maanden op een factuur voor vroegtijdige beëindiging. Het abonnement blijft actief tot de oorspronkelijke einddatum, {date}.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation>Bij annulering in de loop van het jaar wordt het hele jaar in rekening gebracht (het is aan het begin gefactureerd) en blijft het abonnement actief tot {date}.</translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation>Bij annulering halverwege de maand wordt de hele maand in rekening gebracht (deze is aan het begin gefactureerd) en blijft het abonnement actief tot het einde van de maand, {date}.</translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n maand</numerusform>
            <numerusform>%n maanden</numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation>Contract:</translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation>Huidige periode:</translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation>Huidige periode, al gefactureerd:</translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation>Resterende maanden, nu gefactureerd:</translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation>Maanden nog gefactureerd:</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Nog gefactureerd:</translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation>Actief tot:</translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation>Terugbetaling:</translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation>Gegevens verwijderd op:</translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation>Totaal nog gefactureerd:</translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation>Nu gefactureerd voor de resterende maanden (netto):</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Factuur voor vroegtijdige beëindiging:</translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation>Geen: er wordt niets meer gefactureerd.</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (btw verlegd)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>Btw:</translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation>Totaal factuur vroegtijdige beëindiging:</translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation>Gebruikt accounttegoed:</translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation>Nu te betalen:</translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation>Wat er nog wordt gefactureerd</translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation>Stap 5 van 6: wat de klant nog betaalt, en tot wanneer het product actief blijft.</translation>
    </message>
    <message>
        <source>In total</source>
        <translation>In totaal</translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>&amp;Edit subscription</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow.</extracomment>
        <translation>Abonnement &amp;wijzigen</translation>
    </message>
    <message>
        <source>&amp;Cancel subscription</source>
        <translation>Abonnement &amp;annuleren</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Opnieuw activeren</translation>
    </message>
    <message>
        <source>&amp;Subscribe now</source>
        <translation>&amp;Nu abonneren</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>Proefperiode</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Proefperiode beëindigd</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Actief</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annulering in behandeling</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Geannuleerd</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Maandelijks</translation>
    </message>
    <message>
        <source>Annually</source>
        <translation>Jaarlijks</translation>
    </message>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation>Verloopt op {date}</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Opties</translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation>Opties voor {product}</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenties</translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation>{assigned} van {total} toegewezen</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Factureringsfrequentie</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>Contract</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Add-ons</translation>
    </message>
    <message>
        <source>{product}, {status}</source>
        <translation>{product}, {status}</translation>
    </message>
    <message>
        <source>Press Space or Enter for the options.</source>
        <translation>Druk op Spatie of Enter voor de opties.</translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation>Vaste looptijd van {months} maanden, eindigt op {date}</translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation>Vaste looptijd, eindigt op {date}</translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation>Maandelijks opzegbaar</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Proefperiode eindigt op</translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation>Proefperiode geëindigd op</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Beëindigd op</translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation>Volgende factuurdatum</translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation>Geen: wordt niet verlengd</translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation>De opzegtermijn is op {deadline} verstreken: de overeenkomst wordt op {end} met een nieuwe termijn verlengd.</translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation>De overeenkomst wordt op {end} verlengd, tenzij deze uiterlijk op {deadline} wordt geannuleerd.</translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation>Dit account heeft nog geen abonnementen.</translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Winkelwagen: %n item</numerusform>
            <numerusform>Winkelwagen: %n items</numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Ontdek andere producten</translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation>Producten die dit account heeft geannuleerd of nooit heeft gekocht.</translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation>Winkelwagen be&amp;kijken</translation>
    </message>
</context>
<context>
    <name>ThemePage</name>
    <message>
        <source>Theme</source>
        <translation>Thema</translation>
    </message>
</context>
<context>
    <name>UpcomingPanel</name>
    <message>
        <source>Renewal</source>
        <extracomment>rows listed (the next events, earliest first) what each engine event is called in the panel (``EventKind`` values)</extracomment>
        <translation>Verlenging</translation>
    </message>
    <message>
        <source>Contract term ends and renews</source>
        <translation>Contracttermijn loopt af en wordt verlengd</translation>
    </message>
    <message>
        <source>Cancellation takes effect</source>
        <translation>Annulering gaat in</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Proefperiode eindigt</translation>
    </message>
    <message>
        <source>“Trial ending” email</source>
        <translation>E-mail “Proefperiode eindigt binnenkort”</translation>
    </message>
    <message>
        <source>Invoice falls overdue</source>
        <translation>Factuur wordt achterstallig</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Gegevens gemarkeerd voor verwijdering</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Gebeurtenis</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Bedrijf</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Product</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Bedrag</translation>
    </message>
    <message>
        <source>Invoice {number} falls overdue</source>
        <translation>Factuur {number} wordt achterstallig</translation>
    </message>
    <message>
        <source>The renewal invoice&apos;s total as the subscription stands today</source>
        <translation>Het totaal van de verlengingsfactuur op basis van het abonnement zoals het er vandaag voor staat</translation>
    </message>
    <message>
        <source>Nothing is due after {date}.</source>
        <extracomment>a row was activated: the account&apos;s id set once the panel has data (or tried); reloads are explicit after that</extracomment>
        <translation>Na {date} is er niets aan de beurt.</translation>
    </message>
    <message>
        <source>What the next moves of the clock will do, after {date}:</source>
        <translation>Wat er gebeurt als de klok na {date} verder wordt gezet:</translation>
    </message>
    <message>
        <source>Upcoming Events</source>
        <translation>Komende gebeurtenissen</translation>
    </message>
    <message>
        <source>&amp;Upcoming Events</source>
        <translation>Ko&amp;mende gebeurtenissen</translation>
    </message>
    <message>
        <source>Show what the next moves of the simulated clock will do</source>
        <translation>Tonen wat er gebeurt als de gesimuleerde klok verder wordt gezet</translation>
    </message>
    <message>
        <source>Upcoming events</source>
        <translation>Komende gebeurtenissen</translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the versions of the selected subscriptions, read just before the checklist page&apos;s checklist (what &quot;Unassign all&quot; sends: optimistic locking) the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation>{mark} Komt overeen</translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation>{mark} {sentence}</translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation>{mark} De beller is geverifieerd ({time}). Ga verder met Volgende.</translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation>De beller kon niet worden geverifieerd; geen overeenkomst voor: {fields}.</translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>%n verificatiepoging op rij is mislukt. Dit is vastgelegd in de activiteit van het account. Ga niet verder: vraag de factureringsbeheerder om terug te bellen.</numerusform>
            <numerusform>%n verificatiepogingen op rij zijn mislukt. Dit is vastgelegd in de activiteit van het account. Ga niet verder: vraag de factureringsbeheerder om terug te bellen.</numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation>Poging {attempt} van {limit} is mislukt. Controleer de gegevens met de beller.</translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation>Het account-ID komt niet overeen.</translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation>Dit is niet het e-mailadres van een factureringsbeheerder van het account.</translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation>Er is geen kaart of bankrekening geregistreerd die eindigt op deze cijfers.</translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation>Het factuuradres komt niet overeen met dat van de betalingsmethode.</translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation>De postcode komt niet overeen met die van de betalingsmethode.</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Beller verifiëren</translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation>Stap 1 van 6: controleer eerst of de beller is wie hij of zij zegt te zijn.</translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation>Vraag de beller om deze gegevens en typ in wat hij of zij zegt. Ze worden vergeleken met account {account}; alleen of elk gegeven overeenkwam wordt vastgelegd, nooit wat er werd gezegd.</translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation>&amp;Account-ID:</translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation>&amp;E-mailadres factureringsbeheerder:</translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation>&amp;Laatste vier cijfers van de betalingsmethode:</translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation>&amp;Factuuradres (straat en huisnummer):</translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation>&amp;Postcode van het factuuradres:</translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation>bijv. A-100001</translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation>4 cijfers</translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation>Beller ve&amp;rifiëren</translation>
    </message>
</context>
<context>
    <name>Walkthroughs</name>
    <message>
        <source>{account} was not opened: the account shown has unsaved changes.</source>
        <extracomment>conditions that are states: they count when they already hold as the step becomes current the English source sentence (context &quot;Walkthroughs&quot;) with {placeholders} what &quot;Show me&quot; points at: an objectName path, alternatives separated by &quot;|&quot; (the first one on screen wins); ``{product}`` is the walkthrough&apos;s product the warning&apos;s English source (&quot;&quot; when the scene is ready) what the service said: the card&apos;s reason, or the error reading the cards</extracomment>
        <translation>{account} is niet geopend: het getoonde account heeft niet-opgeslagen wijzigingen.</translation>
    </message>
    <message>
        <source>{account} no longer shows this scene. Reset the demo database to play it again.</source>
        <translation>{account} toont deze situatie niet meer. Reset de demodatabase om het stappenplan opnieuw te doorlopen.</translation>
    </message>
    <message>
        <source>Open {company} ({account}) on its Subscriptions tab: one card per product, as on the Subscriptions page of the Billing Center.</source>
        <extracomment>the seed article (&quot;000&quot;); the curated account whose scenario starts with &quot;Article 000&quot; tells the story the catalog code of the product the story is about the card action the scene needs (&quot;cancel&quot;, &quot;edit&quot;, &quot;subscribe&quot;): when the account&apos;s card no longer offers it, Prepare says so the account page&apos;s tab Prepare opens</extracomment>
        <translation>Open {company} ({account}) op het tabblad Abonnementen: één kaart per product, zoals op de pagina Abonnementen van het Billing Center.</translation>
    </message>
    <message>
        <source>Click the options icon (⋮) in the top-right corner of the {product} card.</source>
        <translation>Klik op het optiepictogram (⋮) in de rechterbovenhoek van de kaart van {product}.</translation>
    </message>
    <message>
        <source>Cancel a subscription online</source>
        <translation>Een abonnement online annuleren</translation>
    </message>
    <message>
        <source>Help article 000: the billing contact of {company} ({account}) stops the automatic renewal of {product}.</source>
        <translation>Helpartikel 000: de contactpersoon voor facturering van {company} ({account}) zet de automatische verlenging van {product} stop.</translation>
    </message>
    <message>
        <source>The card now says Cancellation pending. Until the plan expires, Reactivate in the options menu keeps it. A free trial without billing information needs none of this: it simply expires.</source>
        <translation>Op de kaart staat nu Annulering in behandeling. Zolang het plan niet is verlopen, kan het met Opnieuw activeren in het optiemenu worden behouden. Een gratis proefperiode zonder factuurgegevens heeft dit allemaal niet nodig: die verloopt gewoon.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription.</source>
        <translation>Kies Abonnement annuleren.</translation>
    </message>
    <message>
        <source>Go through the confirmation with the customer: the plan stays active until the end of the paid period and is then not renewed. Choose who asks and why, then click Yes, cancel.</source>
        <translation>Neem de bevestiging door met de klant: het plan blijft actief tot het einde van de betaalde periode en wordt daarna niet verlengd. Kies wie de annulering aanvraagt en waarom, en klik daarna op Ja, annuleren.</translation>
    </message>
    <message>
        <source>The result shows the expiry date and the confirmation email sent to the billing contact. Click Close.</source>
        <translation>Het resultaat toont de datum waarop het abonnement verloopt en de bevestigingsmail die naar de contactpersoon voor facturering is verzonden. Klik op Sluiten.</translation>
    </message>
    <message>
        <source>Remove user licences</source>
        <translation>Gebruikerslicenties verwijderen</translation>
    </message>
    <message>
        <source>Help article 001: {company} ({account}) pays for more {product} licences than it needs and removes some.</source>
        <translation>Helpartikel 001: {company} ({account}) betaalt voor meer licenties voor {product} dan nodig en verwijdert er enkele.</translation>
    </message>
    <message>
        <source>The change took effect at once: the unused days of the removed licences became a credit on the account, and the billing date moved to today.</source>
        <translation>De wijziging is direct ingegaan: de ongebruikte dagen van de verwijderde licenties zijn als tegoed op het account bijgeschreven, en de factuurdatum is verschoven naar vandaag.</translation>
    </message>
    <message>
        <source>Choose Edit subscription: the checkout opens on the current plan.</source>
        <translation>Kies Abonnement wijzigen: het venster Afrekenen opent met het huidige plan.</translation>
    </message>
    <message>
        <source>Lower the number of licences (not below those assigned to users) and click Add to cart.</source>
        <translation>Verlaag het aantal licenties (niet tot onder het aantal dat aan gebruikers is toegewezen) en klik op In winkelwagen.</translation>
    </message>
    <message>
        <source>The cart shows the change. Click Checkout.</source>
        <translation>De winkelwagen toont de wijziging. Klik op Afrekenen.</translation>
    </message>
    <message>
        <source>On Complete transaction, check the billing period (it starts today), the licences, the plan price, the credit for the unused days and the total, then click Place order.</source>
        <translation>Controleer op Transactie voltooien de factuurperiode (die vandaag begint), de licenties, de planprijs, het tegoed voor de ongebruikte dagen en het totaal, en klik daarna op Bestelling plaatsen.</translation>
    </message>
    <message>
        <source>The result shows the new billing date and the confirmation email. Click Close.</source>
        <translation>Het resultaat toont de nieuwe factuurdatum en de bevestigingsmail. Klik op Sluiten.</translation>
    </message>
    <message>
        <source>Cancel through support</source>
        <translation>Annuleren via support</translation>
    </message>
    <message>
        <source>Help article 002: {product} is cancelled only through support. A billing admin of {company} ({account}) calls to cancel it.</source>
        <translation>Helpartikel 002: {product} kan alleen via support worden geannuleerd. Een factureringsbeheerder van {company} ({account}) belt om het te annuleren.</translation>
    </message>
    <message>
        <source>The card says Cancellation pending: {product} stays active, and billed, until the agreement ends, and then moves to Discover other products.</source>
        <translation>Op de kaart staat Annulering in behandeling: {product} blijft actief, en wordt gefactureerd, tot het einde van de overeenkomst en verschijnt daarna onder Ontdek andere producten.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription: {product} cannot be cancelled online, so the assisted cancellation opens.</source>
        <translation>Kies Abonnement annuleren: {product} kan niet online worden geannuleerd, dus de begeleide annulering wordt geopend.</translation>
    </message>
    <message>
        <source>Verify the caller: enter the account ID, the billing admin&apos;s email, the last four digits of the payment card and its billing address as the caller gives them, click Verify, then Next.</source>
        <translation>Verifieer de beller: vul het account-ID, het e-mailadres van de factureringsbeheerder, de laatste vier cijfers van de betaalkaart en het factuuradres ervan in zoals de beller ze opgeeft, en klik op Beller verifiëren en daarna op Volgende.</translation>
    </message>
    <message>
        <source>Choose who is asking: only a super admin or a billing admin may ask to cancel. Click Next.</source>
        <translation>Kies wie de aanvraag doet: alleen een superbeheerder of een factureringsbeheerder mag om annulering vragen. Klik op Volgende.</translation>
    </message>
    <message>
        <source>Before you cancel: pay the open balance, unassign the licences and export the account&apos;s data (or confirm that the caller has a backup) until every item is ticked, then click Next.</source>
        <translation>Voordat u annuleert: betaal het openstaande saldo, trek de licenties in en exporteer de accountgegevens (of bevestig dat de beller een back-up heeft) totdat elk punt is afgevinkt, en klik daarna op Volgende.</translation>
    </message>
    <message>
        <source>Check what will be cancelled and click Next.</source>
        <translation>Controleer wat er wordt geannuleerd en klik op Volgende.</translation>
    </message>
    <message>
        <source>Tell the caller what is still billed: the agreement stays active, and is billed, until its end date, without a refund. Click Next.</source>
        <translation>Vertel de beller wat er nog wordt gefactureerd: de overeenkomst blijft actief, en wordt gefactureerd, tot de einddatum, zonder terugbetaling. Klik op Volgende.</translation>
    </message>
    <message>
        <source>Choose the reason and click Cancel subscriptions.</source>
        <translation>Kies de reden en klik op Abonnementen annuleren.</translation>
    </message>
    <message>
        <source>The result lists what was cancelled, the invoice for the rest of the agreement and the confirmation email. Click Close.</source>
        <translation>Het resultaat toont wat er is geannuleerd, de factuur voor de rest van de overeenkomst en de bevestigingsmail. Klik op Sluiten.</translation>
    </message>
    <message>
        <source>Subscribe when the free trial ends</source>
        <translation>Abonneren na afloop van de gratis proefperiode</translation>
    </message>
    <message>
        <source>Help article 003: the {product} trial of {company} ({account}) ended without a charge. The billing contact turns it into a paid plan.</source>
        <translation>Helpartikel 003: de proefperiode van {product} bij {company} ({account}) is zonder kosten afgelopen. De contactpersoon voor facturering zet deze om in een betaald plan.</translation>
    </message>
    <message>
        <source>The plan is active from today and the Users &amp; licences tab is open to assign the seats. A trial that nobody converts simply expires, without a charge.</source>
        <translation>Het plan is vanaf vandaag actief en het tabblad Gebruikers en licenties is geopend om de licenties toe te wijzen. Een proefperiode die niemand omzet, verloopt gewoon, zonder kosten.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended: its card says Trial ended and offers Subscribe now. Click Subscribe now.</source>
        <translation>De gratis proefperiode van {product} is afgelopen: op de kaart staat Proefperiode beëindigd, met de knop Nu abonneren. Klik op Nu abonneren.</translation>
    </message>
    <message>
        <source>Change the plan tier, the number of licences or the billing frequency if you like, then click Checkout.</source>
        <translation>Wijzig desgewenst het planniveau, het aantal licenties of de factureringsfrequentie, en klik daarna op Afrekenen.</translation>
    </message>
    <message>
        <source>Review the order on Complete transaction (Edit order goes back to change it) and click Checkout.</source>
        <translation>Controleer de bestelling op Transactie voltooien (met Bestelling wijzigen gaat u terug om deze aan te passen) en klik op Afrekenen.</translation>
    </message>
    <message>
        <source>Enter the payment card and the account&apos;s VAT number, then click Place order.</source>
        <translation>Voer de betaalkaart en het btw-nummer van het account in, en klik daarna op Bestelling plaatsen.</translation>
    </message>
    <message>
        <source>The result confirms the purchase. Click Assign licences now to give the new seats to users.</source>
        <translation>Het resultaat bevestigt de aankoop. Klik op Licenties nu toewijzen om de nieuwe licenties aan gebruikers te geven.</translation>
    </message>
    <message>
        <source>Change the plan</source>
        <translation>Het plan wijzigen</translation>
    </message>
    <message>
        <source>Help article 004: {company} ({account}) upgrades {product} to a higher tier, more licences or another billing period.</source>
        <translation>Helpartikel 004: {company} ({account}) stapt voor {product} over naar een hoger niveau, meer licenties of een andere factureringsfrequentie.</translation>
    </message>
    <message>
        <source>The new plan applies from today and the rest of the old period was prorated. A lower tier is not offered online: the wizard says to contact Customer Care.</source>
        <translation>Het nieuwe plan geldt vanaf vandaag en de rest van de oude periode is naar rato verrekend. Een lager niveau wordt online niet aangeboden: de wizard verwijst naar de klantenservice.</translation>
    </message>
    <message>
        <source>Choose Edit subscription.</source>
        <translation>Kies Abonnement wijzigen.</translation>
    </message>
    <message>
        <source>Choose a higher plan tier, more licences or another billing frequency, check the order summary at the bottom of the page and click Checkout.</source>
        <translation>Kies een hoger planniveau, meer licenties of een andere factureringsfrequentie, controleer het besteloverzicht onder aan de pagina en klik op Afrekenen.</translation>
    </message>
    <message>
        <source>Check the billing period (it starts today), the licences, the prices and the total. Click Checkout, confirm the payment method if the new plan costs more, and click Place order.</source>
        <translation>Controleer de factuurperiode (die vandaag begint), de licenties, de prijzen en het totaal. Klik op Afrekenen, bevestig de betalingsmethode als het nieuwe plan meer kost, en klik op Bestelling plaatsen.</translation>
    </message>
    <message>
        <source>The result shows the new plan and billing date. Click Close.</source>
        <translation>Het resultaat toont het nieuwe plan en de nieuwe factuurdatum. Klik op Sluiten.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation>Welkom bij Billing Desktop</translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation>Billing Desktop beheert klantaccounts met hun abonnementen, licenties en facturen. Deze database is nieuw en heeft nog geen accounts: verken de applicatie eerst met voorbeeldklanten, of ga direct aan de slag.</translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation>Database: {path}</translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation>Demodatabase openen</translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation>Voorbeeldaccounts in een apart bestand, met een gesimuleerde klok die u vooruit kunt zetten. Deze database blijft leeg.</translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation>Beginnen met een lege database</translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation>Naar de accountlijst gaan en in deze database aan de slag gaan.</translation>
    </message>
</context>
<context>
    <name>_ClockMenu</name>
    <message>
        <source>Simulated &amp;Clock</source>
        <translation>Gesimuleerde &amp;klok</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Day</source>
        <translation>Eén &amp;dag vooruit</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Month</source>
        <translation>Eén &amp;maand vooruit</translation>
    </message>
    <message>
        <source>Move to the &amp;Next Event</source>
        <translation>Naar de &amp;volgende gebeurtenis</translation>
    </message>
    <message>
        <source>Move to a D&amp;ate…</source>
        <translation>Naar een d&amp;atum…</translation>
    </message>
</context>
</TS>
