<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Rechnungen</translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation>Benutzer &amp; Lizenzen</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation>Zahlungsmethoden</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Aktivität</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-Mails</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation>Nicht gespeichert</translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation>Die Änderungen an Konto {account} sind nicht gespeichert. Möchten Sie sie verwerfen?</translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation>Offener Betrag: {amount}</translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation>Nichts offen</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Kontoguthaben: {amount}</translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation>Konto {account}, {company}</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Konten</translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation>Zurück zur Kontenliste (Alt+Links)</translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation>Zurück zur Kontenliste</translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation>Alt+{number}</translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation>Konto-Registerkarten</translation>
    </message>
</context>
<context>
    <name>AccountsTableModel</name>
    <message>
        <source>Standard</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Standard</translation>
    </message>
    <message>
        <source>Corporate</source>
        <translation>Corporate</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Aktiv</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Abgelaufen</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Geschlossen</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Überfällig</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>Konto-ID</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Land</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Kundenbetreuer</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
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
        <translation>Abonnements in der Testphase, aktiv oder mit ausstehender Kündigung</translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation>Offener Betrag aus offenen Rechnungen</translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation>Überfällig: Eine offene Rechnung hat ihr Fälligkeitsdatum überschritten</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation>Alle Länder</translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation>Konten exportieren</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV-Dateien (*.csv)</translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation>Die Konten werden in {file} geschrieben…</translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n Konto exportiert.</numerusform>
            <numerusform>%n Konten exportiert.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln Konto</numerusform>
            <numerusform>%Ln Konten</numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation>Keine Konten entsprechen dem Filter.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Alle Filter löschen</translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation>Diese Datenbank enthält noch keine Konten.</translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation>Konten erscheinen hier, sobald sie angelegt oder importiert werden.</translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation>Stattdessen die Demodatenbank erkunden</translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation>Nach Konto-ID oder Firmenname filtern</translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation>Geben Sie einen Teil des Firmennamens oder den Anfang einer Konto-ID ein (Strg+F)</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Alle Typen</translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation>Nur Konten dieses Typs anzeigen</translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation>Nur Konten in diesem Land anzeigen</translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation>Alle Kundenbetreuer</translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation>Meine Konten</translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation>Nur die Konten dieses Kundenbetreuers anzeigen</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>CSV e&amp;xportieren…</translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation>Die Konten des aktuellen Filters in der aktuellen Reihenfolge als CSV-Datei speichern</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>Nur überfällige</translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation>Nur Konten mit einer Rechnung nach Fälligkeitsdatum anzeigen</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Konten</translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Zeitpunkt</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Bearbeiter</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Angefordert von</translation>
    </message>
    <message>
        <source>System</source>
        <extracomment>A page could not be read (the account was deleted meanwhile, …).</extracomment>
        <translation>System</translation>
    </message>
</context>
<context>
    <name>ActivityTab</name>
    <message>
        <source>Licences assigned</source>
        <extracomment>Translation context of the constant words below. What each audit action means, in words (the codes the services write).</extracomment>
        <translation>Lizenzen zugewiesen</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Lizenzzuweisungen aufgehoben</translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation>Warenkorb geändert</translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation>Warenkorb geleert</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Bestellung aufgegeben</translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation>Produkt abonniert</translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation>Abonnement geändert</translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation>Abonnement herabgestuft</translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation>Abonnement verlängert</translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation>Abrechnungszeitraum fortgeschrieben</translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation>Vertragslaufzeit verlängert</translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation>Abonnement beendet</translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation>Testphase abgelaufen</translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation>Abonnement online gekündigt</translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation>Abonnement vom Support gekündigt</translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation>Add-on gekündigt</translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation>Abonnement reaktiviert</translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation>Anruferverifizierung</translation>
    </message>
    <message>
        <source>Caller verification failed repeatedly</source>
        <translation>Anruferverifizierung wiederholt fehlgeschlagen</translation>
    </message>
    <message>
        <source>Operator name changed</source>
        <translation>Bearbeitername geändert</translation>
    </message>
    <message>
        <source>Accounts list exported</source>
        <translation>Kontenliste exportiert</translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation>Hinweis auf Ende der Testphase gesendet</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Daten zur Löschung vorgemerkt</translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation>Automatische Zahlung geändert</translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation>USt-IdNr. geändert</translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation>Kontodaten exportiert</translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation>Rechnungsempfänger geändert</translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation>Kontodaten geändert</translation>
    </message>
    <message>
        <source>Representative changed</source>
        <translation>Kundenbetreuer geändert</translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation>Zahlungsmethode hinzugefügt</translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation>Zahlungsmethode entfernt</translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation>Standardzahlungsmethode geändert</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Zahlung erfasst</translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation>Rechnung beanstandet</translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation>Rechnung storniert</translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation>Kontakte mit Lizenz</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation>Automatische Verlängerung</translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation>Kündigung beantragt</translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation>Kündigung wirksam</translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation>Kündigungsgrund</translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation>Angegebener Grund</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Aktiv bis</translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation>Noch berechnete Monate</translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation>Noch berechneter Betrag</translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation>Zusätzliche Gebühr</translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation>Verlängert</translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation>Daten gelöscht am</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Tarif</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Lizenzen</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Abrechnungsintervall</translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation>Gekauft über</translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation>Abrechnungsstichtag</translation>
    </message>
    <message>
        <source>Period start</source>
        <translation>Beginn des Zeitraums</translation>
    </message>
    <message>
        <source>Period end</source>
        <translation>Ende des Zeitraums</translation>
    </message>
    <message>
        <source>Term start</source>
        <translation>Vertragsbeginn</translation>
    </message>
    <message>
        <source>Term end</source>
        <translation>Vertragsende</translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation>Laufzeit in Monaten</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Testphase endet</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Beendet am</translation>
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
        <translation>Aktiv</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Endet am</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Automatische Zahlung</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>USt-IdNr.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Kundenbetreuer</translation>
    </message>
    <message>
        <source>Account type</source>
        <translation>Kontotyp</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation>Adresse (zweite Zeile)</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Postleitzahl</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Region</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Land</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Währung</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Marke</translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation>Letzte vier Ziffern</translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation>Ablaufmonat</translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation>Ablaufjahr</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Inhaber</translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation>Land der Bank</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Standard</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Standardzahlungsmethode</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Zusammenfassung</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Verifiziert</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>Offener Saldo</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Kontoguthaben</translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation>Testphase</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Testphase beendet</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Kündigung ausstehend</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Gekündigt</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Abgelaufen</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Monatlich</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Jährlich</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Ja</translation>
    </message>
    <message>
        <source>No</source>
        <translation>Nein</translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation>Wählen Sie einen Eintrag aus, um die Änderungen zu sehen.</translation>
    </message>
    <message>
        <source>System</source>
        <translation>System</translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation>{when} von {operator}</translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation>Produkt: {product}</translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation>Angefordert von {contact}</translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation>Keine Werte geändert.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Feld</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Vorher</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Nachher</translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation>An diesem Konto wurde noch nichts geändert.</translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation>Aktivität des Kontos</translation>
    </message>
    <message>
        <source>What changed</source>
        <translation>Änderungen</translation>
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
        <translation>„{location}“ ist weder eine Datenbankdatei noch eine Serveradresse.</translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Done</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation>Erledigt</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Noch nicht</translation>
    </message>
    <message>
        <source>Month to month, billed monthly</source>
        <translation>Monatlich kündbar, monatliche Abrechnung</translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation>Monatlich kündbar, jährliche Abrechnung</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation>Feste Laufzeit von {months} Monaten, monatliche Abrechnung</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation>Feste Laufzeit von {months} Monaten, jährliche Abrechnung</translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation>Der Abrechnungskontakt kann {product} online kündigen: über „Abonnement kündigen“ auf der Produktkarte.</translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation>In diesem Konto kann derzeit nichts gekündigt werden.</translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation>Kündigung über den Support – {account}</translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation>Wird abgebrochen…</translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation>{product} kündigen?</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Tarif</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Lizenzen</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Abrechnungsintervall</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation>Eine kostenlose Testversion ohne Zahlungsinformationen läuft am Ende der Testphase, am {date}, einfach ab – ohne Kosten und ohne weitere Schritte. Eine Kündigung jetzt erfasst nur den Grund.</translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation>Der Vertrag läuft bis zum {date}: Für die verbleibenden Monate werden noch {amount} berechnet. Es erfolgt keine Rückerstattung.</translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation>Der laufende Abrechnungszeitraum ist bereits bezahlt und wird nicht erstattet; darüber hinaus wird nichts berechnet. Die Daten werden bis zum {deletion} aufbewahrt und dann gelöscht.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation>Dieses Abonnement kann hier nicht gekündigt werden.</translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation>Prüfen Sie die Folgen, geben Sie einen Grund an und bestätigen Sie mit „Ja, kündigen“.</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Testphase endet am</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Automatische Verlängerung</translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation>Keine: Eine Testversion wird nie berechnet</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Aktiv bis</translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation>Deaktiviert: Der Tarif wird nach dem {date} nicht verlängert</translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation>Warum wird gekündigt?</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Angefordert von:</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Grund:</translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation>&amp;Details:</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>Grund auswählen</translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation>Ergänzungen des Kunden (optional; bis zu {maximum} Zeichen)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Grund</translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation>Details zum Grund</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Angefordert von</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation>{name} &lt;{email}&gt; (Abrechnungskontakt)</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation>Kündigung über den &amp;Support starten…</translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation>Zu teuer</translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation>Uns fehlen benötigte Funktionen</translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation>Wir wechseln den Anbieter</translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation>Wir benötigen es nicht mehr</translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation>Es war ein befristetes Projekt</translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation>Technische Probleme</translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation>Sonstiges (bitte beschreiben)</translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation>Kündigung bestätigt</translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation>Die automatische Verlängerung ist deaktiviert. Klicken Sie zum Abschluss auf „Schließen“.</translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation>Die Testphase von {product} endet am {date}, ohne Kosten.</translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation>Ihr Abonnement für {product} läuft am {date} ab.</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Kündigung ausstehend</translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation>Gesendet an {email}</translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation>An den Abrechnungskontakt gesendet</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Testphase endet am</translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation>Läuft ab am</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Automatische Verlängerung</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Deaktiviert</translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation>Bestätigungs-E-Mail</translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation>Falls Sie es sich anders überlegen, wählen Sie vor dem {date} im Optionsmenü des Abonnements „Reaktivieren“.</translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation>&amp;Rechnungen öffnen</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation>{product} kann nicht online gekündigt werden. Wenden Sie sich für die Kündigung bitte an den Support.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation>Dieses Abonnement kann derzeit nicht gekündigt werden.</translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation>Abonnement kündigen: {product}</translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation>Abonnement kündigen</translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation>&amp;Ja, kündigen</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation>&amp;Nicht kündigen</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
</context>
<context>
    <name>CancellationsModel</name>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Endet am</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Betrag</translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation>Warenkorb</translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation>Der gesamte Warenkorb wird als eine Bestellung mit einer Rechnung abgeschlossen.</translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation>Prüfen Sie die Produkte in Ihrem Warenkorb. Wählen Sie eines aus und klicken Sie auf „Aus dem Warenkorb entfernen“, um es zu entfernen.</translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation>Aus dem Warenkorb &amp;entfernen</translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation>Produkte im Warenkorb</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Zur &amp;Kasse</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>Attended and unattended remote support for help desks (previous generation).</source>
        <translation>Fernsupport mit und ohne Anwesenheit des Nutzers für Helpdesks (vorherige Generation).</translation>
    </message>
    <message>
        <source>Mobile device support</source>
        <translation>Support für Mobilgeräte</translation>
    </message>
    <message>
        <source>Camera share</source>
        <translation>Kamerafreigabe</translation>
    </message>
    <message>
        <source>Additional storage (100 GB)</source>
        <translation>Zusätzlicher Speicher (100 GB)</translation>
    </message>
    <message>
        <source>Remote support with a service desk, for technicians of any team size.</source>
        <translation>Fernsupport mit Servicedesk für Techniker in Teams jeder Größe.</translation>
    </message>
    <message>
        <source>Remote monitoring, management and support for IT teams and managed service providers.</source>
        <translation>Fernüberwachung, -verwaltung und -support für IT-Teams und Managed Service Provider.</translation>
    </message>
    <message>
        <source>Third-party patch management</source>
        <translation>Patch-Management für Drittanbietersoftware</translation>
    </message>
    <message>
        <source>Mobile device management</source>
        <translation>Mobilgeräteverwaltung</translation>
    </message>
    <message>
        <source>Additional storage (250 GB)</source>
        <translation>Zusätzlicher Speicher (250 GB)</translation>
    </message>
    <message>
        <source>Cloud phone system with video meetings, messaging and a contact centre option.</source>
        <translation>Cloud-Telefonanlage mit Videokonferenzen, Messaging und optionalem Contact Center.</translation>
    </message>
    <message>
        <source>Contact center</source>
        <translation>Contact Center</translation>
    </message>
    <message>
        <source>Call recording storage</source>
        <translation>Speicher für Gesprächsaufzeichnungen</translation>
    </message>
    <message>
        <source>Online meetings and video conferencing.</source>
        <translation>Onlinebesprechungen und Videokonferenzen.</translation>
    </message>
    <message>
        <source>Additional cloud storage</source>
        <translation>Zusätzlicher Cloudspeicher</translation>
    </message>
    <message>
        <source>Conference room connector</source>
        <translation>Konferenzraum-Connector</translation>
    </message>
    <message>
        <source>Webinars and virtual events with registration, polls and analytics.</source>
        <translation>Webinare und virtuelle Veranstaltungen mit Registrierung, Umfragen und Analysen.</translation>
    </message>
    <message>
        <source>Webinar recording storage</source>
        <translation>Speicher für Webinaraufzeichnungen</translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation>Die Kontodaten wurden nach {path} exportiert.</translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation>Die Standardkarte ist abgelaufen. Fügen Sie zuerst eine neue Karte hinzu oder legen Sie eine andere Zahlungsmethode als Standard fest.</translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation>{contract}.</translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation>Der Vertrag läuft vom {start} bis zum {end}.</translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation>Die 30-tägige Kündigungsfrist endete am {deadline}: Der Vertrag verlängert sich noch einmal, bevor er endet.</translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation>Bei Kündigung bis zum {deadline} verlängert er sich nicht.</translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation>Der laufende Abrechnungszeitraum endet am {date}.</translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}:</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Banküberweisung über {amount} für Konto {account} erfassen?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>{amount} über {method} für Konto {account} abbuchen?</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Saldo begleichen</translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation>Dies geschieht sofort, vor der Kündigung: Die offenen Rechnungen werden beginnend mit der ältesten bezahlt, und der Kunde erhält eine Zahlungsbestätigung per E-Mail.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>{amount} &amp;bezahlen</translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation>{amount} wurde über {method} vereinnahmt; der Kunde wurde per E-Mail benachrichtigt.</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Alle Zuweisungen aufheben</translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>Die Lizenz von {products} ihrem Benutzer entziehen?</numerusform>
            <numerusform>Alle %n Lizenzen von {products} ihren Benutzern entziehen?</numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation>Dies geschieht sofort, vor der Kündigung: Diese Benutzer können das Produkt nicht mehr verwenden.</translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation>Alle Zuweisungen a&amp;ufheben</translation>
    </message>
    <message>
        <source>Nothing was unassigned. The checklist now shows the current data: check it and press Unassign all again if needed.</source>
        <translation>Es wurden keine Zuweisungen aufgehoben. Die Checkliste zeigt jetzt die aktuellen Daten: Prüfen Sie sie und klicken Sie bei Bedarf erneut auf „Alle Zuweisungen aufheben“.</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>%n Lizenzzuweisung wurde aufgehoben.</numerusform>
            <numerusform>%n Lizenzzuweisungen wurden aufgehoben.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation>Kontodaten exportieren</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>ZIP-Archive (*.zip)</translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation>Die Kontodaten werden gelesen…</translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation>Das Archiv wird geschrieben…</translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation>Die Kontodaten werden exportiert…</translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation>Die Kontodaten wurden exportiert.</translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation>Vor der Kündigung</translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation>Schritt 3 von 6: Alle Punkte müssen erfüllt sein, bevor die Kündigung erfolgen kann.</translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation>Jede Schaltfläche hier führt nach Ihrer Bestätigung sofort genau eine Aktion aus: Es sind die einzigen Änderungen vor der abschließenden Schaltfläche „Abonnements kündigen“. Jeder Punkt wird automatisch abgehakt, sobald er erfüllt ist.</translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation>Saldo &amp;begleichen…</translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation>Zahlungs&amp;methoden…</translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation>Alle Zuweisungen a&amp;ufheben…</translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation>Konto&amp;daten exportieren…</translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation>Der Anrufer bestätigt, dass die Daten bereits &amp;gesichert sind</translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Monthly</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box)</extracomment>
        <translation>Monatlich</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Jährlich</translation>
    </message>
    <message>
        <source>billed monthly</source>
        <extracomment>how a line is billed, as a whole phrase (never a lower-cased frequency word)</extracomment>
        <translation>monatliche Abrechnung</translation>
    </message>
    <message>
        <source>billed annually</source>
        <translation>jährliche Abrechnung</translation>
    </message>
    <message>
        <source>{price} per licence per month</source>
        <extracomment>&quot;per licence per month|year&quot; for the price of a tier or an add-on</extracomment>
        <translation>{price} pro Lizenz und Monat</translation>
    </message>
    <message>
        <source>{price} per licence per year</source>
        <translation>{price} pro Lizenz und Jahr</translation>
    </message>
    <message>
        <source>{price} per month</source>
        <translation>{price} pro Monat</translation>
    </message>
    <message>
        <source>{price} per year</source>
        <translation>{price} pro Jahr</translation>
    </message>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) Place order met a conflict: another operator changed what the review shows (going back reads the data again) the Plan page; ``None`` when the wizard was opened from the cart the page shown before the current one (to tell Back from Next)</extracomment>
        <translation>Bestellvorgang — {company} ({account})</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
    <message>
        <source>subscribe to {plan}</source>
        <translation>{plan} (neues Abonnement)</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n Lizenz (vorher {old})</numerusform>
            <numerusform>%n Lizenzen (vorher {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n Lizenz</numerusform>
            <numerusform>%n Lizenzen</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}: {plan}, {licences}, {billing}</source>
        <translation>{product}: {plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>{line}; adds {addons}</source>
        <translation>{line}; zusätzlich {addons}</translation>
    </message>
    <message>
        <source>Press Edit order to read the current data and review the order again.</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation>Klicken Sie auf „Bestellung bearbeiten“, um die aktuellen Daten zu laden und die Bestellung erneut zu prüfen.</translation>
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
        <translation>Produkt:</translation>
    </message>
    <message>
        <source>Billing period:</source>
        <translation>Abrechnungszeitraum:</translation>
    </message>
    <message>
        <source>{period} (starts today, {billing})</source>
        <translation>{period} (ab heute, {billing})</translation>
    </message>
    <message>
        <source>{new} (was {old})</source>
        <translation>{new} (vorher {old})</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Lizenzen:</translation>
    </message>
    <message>
        <source>Plan price:</source>
        <translation>Tarifpreis:</translation>
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
        <translation>Anteilige Gutschrift:</translation>
    </message>
    <message>
        <source>{amount} for {days} unused days ({period})</source>
        <translation>{amount} für {days} nicht genutzte Tage ({period})</translation>
    </message>
    <message>
        <source>Subtotal:</source>
        <translation>Zwischensumme:</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>USt.:</translation>
    </message>
    <message>
        <source>{amount} — reverse charge (VAT number {number})</source>
        <translation>{amount} — Reverse Charge (USt-IdNr. {number})</translation>
    </message>
    <message>
        <source>VAT ({rate}):</source>
        <translation>USt. ({rate}):</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Gesamt:</translation>
    </message>
    <message>
        <source>Account credit applied:</source>
        <translation>Verwendetes Kontoguthaben:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Jetzt fälliger Gesamtbetrag:</translation>
    </message>
    <message>
        <source>Becomes account credit:</source>
        <translation>Wird dem Kontoguthaben gutgeschrieben:</translation>
    </message>
    <message>
        <source>Press Back to review the order again with the current data.</source>
        <translation>Klicken Sie auf „Zurück“, um die Bestellung mit den aktuellen Daten erneut zu prüfen.</translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message>
        <source>Simulated Clock</source>
        <extracomment>the upcoming-events panel&apos;s first height under the view (pixels) the clock moved (also after a cancelled move that did part of the way): the summary the upcoming-events panel refreshed after each move (set by ``install_clock_control``) the move running, if any the summary of the last move, while it is open why this operator may not move the clock (None: they may) View ▸ Simulated Clock (set by ``install_clock_control``) the result also after Cancel (the work&apos;s return value is dropped then)</extracomment>
        <translation>Simulierte Uhr</translation>
    </message>
    <message>
        <source>Moving the clock to {date} and running what is due…</source>
        <translation>Die Uhr wird auf den {date} vorgestellt, Fälliges wird ausgeführt…</translation>
    </message>
    <message>
        <source>Move the clock to the next renewal, trial end, cancellation end or term end.</source>
        <translation>Die Uhr zum nächsten Ereignis vorstellen: Verlängerung, Ende einer Testphase, Wirksamwerden einer Kündigung oder Ende einer Vertragslaufzeit.</translation>
    </message>
    <message>
        <source>Nothing lies ahead: no renewal, trial end, cancellation or term end.</source>
        <translation>Nichts steht an: keine Verlängerung, kein Ende einer Testphase, keine Kündigung und kein Ende einer Vertragslaufzeit.</translation>
    </message>
    <message>
        <source>Move to {date}: {product} of {company} renews.</source>
        <translation>Auf den {date} vorstellen: {product} von {company} wird verlängert.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} trial of {company} ends.</source>
        <translation>Auf den {date} vorstellen: Die Testphase von {product} bei {company} endet.</translation>
    </message>
    <message>
        <source>Move to {date}: the cancellation of {product} for {company} takes effect.</source>
        <translation>Auf den {date} vorstellen: Die Kündigung von {product} für {company} wird wirksam.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} contract term of {company} ends.</source>
        <translation>Auf den {date} vorstellen: Die Vertragslaufzeit von {product} bei {company} endet.</translation>
    </message>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>Und %n weiteres Ereignis an diesem Tag.</numerusform>
            <numerusform>Und %n weitere Ereignisse an diesem Tag.</numerusform>
        </translation>
    </message>
    <message>
        <source>+1 day</source>
        <translation>+1 Tag</translation>
    </message>
    <message>
        <source>Move the simulated date one day forward and run what is due.</source>
        <translation>Das simulierte Datum um einen Tag vorstellen und Fälliges ausführen.</translation>
    </message>
    <message>
        <source>+1 month</source>
        <translation>+1 Monat</translation>
    </message>
    <message>
        <source>Move the simulated date one month forward and run what is due.</source>
        <translation>Das simulierte Datum um einen Monat vorstellen und Fälliges ausführen.</translation>
    </message>
    <message>
        <source>To next event</source>
        <translation>Zum nächsten Ereignis</translation>
    </message>
    <message>
        <source>To date…</source>
        <translation>Zum Datum…</translation>
    </message>
    <message>
        <source>Pick a day after today: the simulated date moves there and runs what is due.</source>
        <translation>Wählen Sie einen Tag nach heute: Das simulierte Datum wird dorthin vorgestellt, und Fälliges wird ausgeführt.</translation>
    </message>
    <message>
        <source>Day to move the clock to</source>
        <translation>Tag, auf den die Uhr vorgestellt wird</translation>
    </message>
    <message>
        <source>The simulated clock of this demo database: it only moves forward.</source>
        <translation>Die simulierte Uhr dieser Demodatenbank: Sie läuft nur vorwärts.</translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message>
        <source>Renewal invoice</source>
        <extracomment>the tree&apos;s item role holding the account id of a line (None on group titles) lines listed per group; a long move on a large demo lists the first ones and a count</extracomment>
        <translation>Verlängerungsrechnung</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Testphase endet bald</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Testphase beendet</translation>
    </message>
    <message>
        <source>{product} renewed for its last period</source>
        <translation>{product} für den letzten Zeitraum verlängert</translation>
    </message>
    <message>
        <source>{product} renewed until {date}</source>
        <translation>{product} verlängert bis zum {date}</translation>
    </message>
    <message>
        <source>The {product} trial ended without a purchase</source>
        <translation>Testphase von {product} ohne Kauf beendet</translation>
    </message>
    <message>
        <source>{product} ended: its cancellation took effect</source>
        <translation>{product} beendet: Die Kündigung ist wirksam geworden</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, paid</source>
        <translation>Rechnung {number} für {product}: {amount}, bezahlt</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, open</source>
        <translation>Rechnung {number} für {product}: {amount}, offen</translation>
    </message>
    <message>
        <source>“{email}” email about {product} to {address}</source>
        <translation>E-Mail „{email}“ zu {product} an {address}</translation>
    </message>
    <message>
        <source>“{email}” email about {product}</source>
        <translation>E-Mail „{email}“ zu {product}</translation>
    </message>
    <message>
        <source>{product} term renewed until {date}</source>
        <translation>Vertragslaufzeit von {product} verlängert bis zum {date}</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n Rechnung überfällig geworden</numerusform>
            <numerusform>%n Rechnungen überfällig geworden</numerusform>
        </translation>
    </message>
    <message>
        <source>The data of {product} was marked for deletion</source>
        <translation>Die Daten von {product} wurden zur Löschung vorgemerkt</translation>
    </message>
    <message>
        <source>Double-click or press Enter to open {company}</source>
        <extracomment>a line was activated (double-click or Enter): the account&apos;s id</extracomment>
        <translation>Doppelklicken oder die Eingabetaste drücken, um {company} zu öffnen</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… und %n weiterer Eintrag</numerusform>
            <numerusform>… und %n weitere Einträge</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>%n Ereignis fehlgeschlagen, wird erneut versucht</numerusform>
            <numerusform>%n Ereignisse fehlgeschlagen, werden erneut versucht</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n Abonnement verlängert</numerusform>
            <numerusform>%n Abonnements verlängert</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n Testphase abgelaufen</numerusform>
            <numerusform>%n Testphasen abgelaufen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n Abonnement durch Kündigung beendet</numerusform>
            <numerusform>%n Abonnements durch Kündigung beendet</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n Rechnung ausgestellt, insgesamt {total}</numerusform>
            <numerusform>%n Rechnungen ausgestellt, insgesamt {total}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n E-Mail an Kunden in die Warteschlange gestellt</numerusform>
            <numerusform>%n E-Mails an Kunden in die Warteschlange gestellt</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n Vertragslaufzeit verlängert</numerusform>
            <numerusform>%n Vertragslaufzeiten verlängert</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n Abonnement zur Datenlöschung vorgemerkt</numerusform>
            <numerusform>%n Abonnements zur Datenlöschung vorgemerkt</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled: the clock stopped on {date} instead of {requested}. What happened until then is kept.</source>
        <translation>Abgebrochen: Die Uhr hat am {date} statt am {requested} angehalten. Was bis dahin geschehen ist, bleibt erhalten.</translation>
    </message>
    <message>
        <source>The clock moved from {start} to {end}.</source>
        <translation>Die Uhr wurde vom {start} auf den {end} vorgestellt.</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>Was geschah</translation>
    </message>
    <message>
        <source>Nothing was due between {start} and {end}.</source>
        <translation>Zwischen dem {start} und dem {end} war nichts fällig.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n Ereignis verarbeitet.</numerusform>
            <numerusform>%n Ereignisse verarbeitet.</numerusform>
        </translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>What happened, by kind</source>
        <translation>Was geschah, nach Art</translation>
    </message>
    <message>
        <source>Double-click a line, or select it and press Enter, to open its account.</source>
        <translation>Doppelklicken Sie auf eine Zeile oder wählen Sie sie aus und drücken Sie die Eingabetaste, um ihr Konto zu öffnen.</translation>
    </message>
</context>
<context>
    <name>ConfirmPage</name>
    <message>
        <source>Account:</source>
        <translation>Konto:</translation>
    </message>
    <message>
        <source>{account}, {company}</source>
        <translation>{account}, {company}</translation>
    </message>
    <message>
        <source>Requested by:</source>
        <translation>Angefordert von:</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation>Anrufer verifiziert:</translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation>jetzt gekündigt, aktiv bis zum {date}</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Noch berechnet:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Jetzt berechnet:</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Nichts</translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation>Bestätigungs-E-Mail an:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation>Kündigung bestätigen</translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation>Schritt 6 von 6: Nichts wird gekündigt, bevor Sie auf „Abonnements kündigen“ klicken.</translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation>Abonnements &amp;kündigen</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Grund:</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>&amp;Details:</translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation>Aussage des Anrufers (bei „Sonstiges“ erforderlich)</translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation>Grund auswählen…</translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation>Superadministrator</translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation>Abrechnungsadministrator</translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation>Produktadministrator</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
</context>
<context>
    <name>CorporateAccountsModel</name>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Kundenbetreuer</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keiner</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Unexpected error</source>
        <extracomment>After the window is shown: open the log file, then warm up the write path. How long the exit waits for background reads before closing the database.</extracomment>
        <translation>Unerwarteter Fehler</translation>
    </message>
    <message>
        <source>Billing Desktop ran into an unexpected error.</source>
        <translation>In Billing Desktop ist ein unerwarteter Fehler aufgetreten.</translation>
    </message>
    <message>
        <source>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Die Details wurden in {path} gespeichert. Nichts wurde nur zur Hälfte gespeichert: Jede Änderung wird ganz oder gar nicht übernommen. Sie können weiterarbeiten oder die Anwendung beenden und neu starten.</translation>
    </message>
    <message>
        <source>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Nichts wurde nur zur Hälfte gespeichert: Jede Änderung wird ganz oder gar nicht übernommen. Sie können weiterarbeiten oder die Anwendung beenden und neu starten.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Beenden</translation>
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
        <translation>✗ Niedrigerer Tarif: {reason}</translation>
    </message>
    <message>
        <source>In the Billing Center</source>
        <translation>Im Abrechnungscenter</translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message>
        <source>Open an account to see its Billing Center as the customer sees it.</source>
        <extracomment>the view was read again and what it shows changed the contact shown as; ``None`` = the account&apos;s billing contact</extracomment>
        <translation>Öffnen Sie ein Konto, um sein Abrechnungscenter so zu sehen, wie der Kunde es sieht.</translation>
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
        <translation>✓ {product}: kann gekauft werden</translation>
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
        <translation>Offener Betrag: {amount}. Der Kunde kann ihn mit „Saldo begleichen“ bezahlen.</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Nichts ist fällig.</translation>
    </message>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Offene Rechnungen (%n)</numerusform>
            <numerusform>Offene Rechnungen (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Bezahlte Rechnungen (%n)</numerusform>
            <numerusform>Bezahlte Rechnungen (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Invoice</source>
        <translation>Rechnung</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Ausgestellt</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Fälliger Betrag</translation>
    </message>
    <message>
        <source>{amount} (overdue)</source>
        <translation>{amount} (überfällig)</translation>
    </message>
    <message>
        <source>Billing period: {start} – {end}</source>
        <translation>Abrechnungszeitraum: {start} – {end}</translation>
    </message>
    <message>
        <source>Billing Center</source>
        <translation>Abrechnungscenter</translation>
    </message>
    <message>
        <source>&amp;As seen by:</source>
        <translation>Aus Sicht &amp;von:</translation>
    </message>
    <message>
        <source>Contact the Billing Center is shown as</source>
        <translation>Kontakt, aus dessen Sicht das Abrechnungscenter angezeigt wird</translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Weitere Produkte entdecken</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Rechnungen</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation>Ohne USt.</translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation>{amount} pro Jahr</translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation>{amount} pro Monat</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation>Die Kennzahlen werden gelesen…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation>{month}: {amount} prognostiziert aus fälligen Verlängerungen (ohne USt.)</translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation>{month}: {amount} in Rechnung gestellt (ohne USt.)</translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation>&amp;Währung:</translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation>Die Währung des Umsatzdiagramms; Beträge werden nie umgerechnet</translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation>In Rechnung gestellt</translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation>Prognose aus fälligen Verlängerungen</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Gekauft</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Zugewiesen</translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation>Wiederkehrender Umsatz pro Monat</translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation>Gekaufte und zugewiesene Lizenzen pro Produkt</translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation>Ausstehende Kündigungen</translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation>Verlängerungen in den nächsten {days} Tagen</translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation>Kein Abonnement wartet auf die Kündigung.</translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation>Kein Abonnement verlängert sich in den nächsten {days} Tagen.</translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation>Wiederkehrender Umsatz pro Monat in {currency}, ohne USt.</translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation>Kennzahlen zum {date}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>Ausstehende &amp;Kündigungen (%Ln)</numerusform>
            <numerusform>Ausstehende &amp;Kündigungen (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>&amp;Verlängerungen in den nächsten {days} Tagen (%Ln)</numerusform>
            <numerusform>&amp;Verlängerungen in den nächsten {days} Tagen (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>%Ln weiterer nicht angezeigt</numerusform>
            <numerusform>%Ln weitere nicht angezeigt</numerusform>
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
        <translation>Die Datenbank {path} kann nicht verwendet werden: {detail}</translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation>Die Datenbank {path} kann nicht angelegt werden: Der Ordner ist nicht beschreibbar ({detail}).</translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation>Die Datei {path} ist keine gültige Billing-Desktop-Datenbank oder ist beschädigt; sie wurde nicht verändert.</translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation>Die Datenbank {path} wurde mit einer neueren Version von Billing Desktop erstellt (Schema {revision}); aktualisieren Sie die Anwendung, um sie zu öffnen. Die Datei wurde nicht verändert.</translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation>Die Datenbank {path} ist schreibgeschützt. Kopieren Sie sie in einen beschreibbaren Ordner oder korrigieren Sie die Zugriffsrechte.</translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation>Die Datenbank {path} ist durch ein anderes Programm gesperrt. Schließen Sie es und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>The disk holding the database {path} is full, so nothing was saved. Free some disk space and try again.</source>
        <translation>Der Datenträger mit der Datenbank {path} ist voll, daher wurde nichts gespeichert. Geben Sie Speicherplatz frei und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>The database file {path} cannot be found: it was moved or deleted, or its drive is not connected. Nothing was changed; put the file back and try again.</source>
        <translation>Die Datenbankdatei {path} wurde nicht gefunden: Sie wurde verschoben oder gelöscht, oder ihr Laufwerk ist nicht verbunden. Es wurde nichts geändert; stellen Sie die Datei wieder an ihren Ort und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>The database {path} could not be read or written (a disk or network error); nothing was saved. Check the drive and try again.</source>
        <translation>Die Datenbank {path} konnte nicht gelesen oder geschrieben werden (Datenträger- oder Netzwerkfehler); es wurde nichts gespeichert. Prüfen Sie das Laufwerk und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation>Keine Verbindung zum Datenbankserver {path}: {detail}</translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation>{path} ist keine Datenbankadresse, die Billing Desktop verwenden kann: {detail}</translation>
    </message>
</context>
<context>
    <name>DatabasePage</name>
    <message>
        <source>Database</source>
        <translation>Datenbank</translation>
    </message>
    <message>
        <source>Choose the database file</source>
        <translation>Datenbankdatei auswählen</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>SQLite-Datenbanken (*.sqlite3 *.sqlite *.db);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation>Aktuell verwendet:</translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation>SQLite-&amp;Datei:</translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation>&amp;URL des Datenbankservers:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>Durch&amp;suchen…</translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation>Eine noch nicht vorhandene Datei wird als neue, leere Datenbank angelegt. Die Anwendung öffnet die gewählte Datenbank, wenn Sie auf „OK“ oder „Übernehmen“ klicken, und danach bei jedem Start.</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>DEMO DATABASE</source>
        <extracomment>the banner&apos;s colour: the status bar&apos;s DEMO badge&apos;s</extracomment>
        <translation>DEMODATENBANK</translation>
    </message>
    <message>
        <source>Fictitious customers on a simulated date. Reset it or return to a snapshot at any time.</source>
        <translation>Fiktive Kunden an einem simulierten Datum. Sie können die Datenbank jederzeit zurücksetzen oder einen Snapshot wiederherstellen.</translation>
    </message>
    <message>
        <source>Demo database</source>
        <translation>Demodatenbank</translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation>Tarife: {plans}</translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation>Ab {price} pro Lizenz und Monat, mit {days} Tagen kostenloser Testphase</translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation>Ab {price} pro Lizenz und Monat</translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation>Beendet am {ended}. Die Daten werden bis zum {deletion} aufbewahrt und dann gelöscht.</translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation>Beendet am {ended}.</translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation>Derzeit nicht erhältlich: {reason}</translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation>Erneut abonnieren</translation>
    </message>
    <message>
        <source>Buy</source>
        <translation>Kaufen</translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation>{product} erneut abonnieren</translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation>{product} kaufen</translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation>{product}, gekündigt</translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation>Rechnung {number} beanstanden</translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation>Rechnung {number} wurde am {date} ausgestellt und kann bis zum {deadline} beanstandet werden. Die Beanstandung wird auf der Rechnung vermerkt; eine Gutschrift erfolgt nicht automatisch.</translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation>Was beanstandet der Kunde?</translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation>Beanstandung &amp;vermerken</translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation>Die Kartennummer ist ungültig. Prüfen Sie die Ziffern.</translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation>Das Ablaufdatum {month}/{year} ist ungültig.</translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation>Die Karte ist im {month:02d}/{year} abgelaufen.</translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation>Dieser Kartentyp wird nicht akzeptiert.</translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation>Die IBAN ist ungültig. Prüfen Sie die Ziffern.</translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation>Die IBAN hat kein gültiges Format.</translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation>{text} ist kein gültiges Datum (verwenden Sie JJJJ-MM-TT, today oder today+/-N, gefolgt von d, w, m oder y).</translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code.</extracomment>
        <translation>Unbekannter Währungscode: {currency}.</translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <extracomment>Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation>Der Betrag {amount} ist keine Zahl.</translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation>{amount} ist kein gültiger Betrag.</translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation>Der Betrag {amount} ist zu hoch.</translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation>Ein Zeitraum muss nach seinem Beginn enden ({start} – {end}).</translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation>Das Datum liegt außerhalb des unterstützten Bereichs.</translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation>{day} liegt vor dem Abrechnungsbeginn {anchor}.</translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation>Eine feste Laufzeit muss mindestens einen Monat betragen.</translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation>Nur ein Superadministrator kann die Kündigung dieses Produkts beantragen.</translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation>Dieses Produkt wurde über einen Kundenbetreuer gekauft: Nur ein Produktadministrator oder ein autorisierter Abrechnungsadministrator kann die Kündigung beantragen.</translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation>Nur ein Superadministrator oder ein Abrechnungsadministrator kann die Kündigung beantragen.</translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation>{on} liegt nicht im laufenden Abrechnungszeitraum ({start} – {end}).</translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation>Ein Vertrag mit fester Laufzeit benötigt ein Enddatum.</translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation>Wenden Sie sich an Ihren Abrechnungsadministrator ({name}, {email}), um Produkt- oder Lizenzänderungen vorzunehmen</translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation>Dies ist bereits der aktuelle Tarif.</translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation>Für einen Wechsel in einen niedrigeren Tarif wenden Sie sich an den Kundenservice</translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation>Mindestens eine Lizenz ist erforderlich.</translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation>{assigned} Lizenzen sind Benutzern zugewiesen. Heben Sie Zuweisungen auf, bevor Sie die Anzahl unter {assigned} senken.</translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation>Dieser Tarif erlaubt höchstens {maximum} Lizenzen.</translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation>Das Abonnement ist abgelaufen. Schließen Sie es erneut ab, bevor Sie Änderungen vornehmen.</translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation>Eine überfällige Rechnung muss bezahlt werden, bevor der Tarif geändert werden kann.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation>Rechnungen können innerhalb von 15 Tagen nach Ausstellung beanstandet werden; der letzte Tag war der {deadline}.</translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation>Kundenbetreuer können nur die ihnen zugewiesenen Corporate-Konten ändern.</translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation>Trainer können nur in einer Demodatenbank Änderungen vornehmen.</translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation>Ihre Rolle hat nur Lesezugriff.</translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation>Das Änderungsdatum {on} liegt vor dem Beginn des laufenden Abrechnungszeitraums ({start}).</translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation>Der Betrag darf nicht negativ sein.</translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation>{country} ist kein gültiger Ländercode.</translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation>Der USt.-Satz {rate} für {country} ist ungültig.</translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation>Die Datei mit den USt.-Sätzen ist ungültig: {detail}.</translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation>Die Datei mit den USt.-Sätzen {path} kann nicht gelesen werden.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation>{number} ist keine gültige USt-IdNr. für {country}: Prüfen Sie das Format.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation>{number} ist keine gültige USt-IdNr. für {country}: Prüfen Sie die Ziffern.</translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation>Die USt-IdNr. {number} gehört zu einem anderen Land als dem Rechnungsland {country}.</translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation>USt-IdNrn. aus {country} können nicht geprüft werden.</translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation>Ihre Bestellung {order_number} ist bestätigt</translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation>Ihr Abonnement für {product} wurde gekündigt</translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation>Ihr Abonnement für {product} wurde reaktiviert</translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation>Ihre Testphase für {product} endet am {trial_end}</translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation>Ihre Testphase für {product} ist beendet</translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation>Rechnung {invoice_number} für Ihr Abonnement für {product}</translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation>Zahlung erhalten: {amount}</translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation>Guten Tag {contact_name},

vielen Dank für Ihre Bestellung {order_number}.

{summary}

Rechnung {invoice_number}: {total} (jetzt fällig: {amount_due}).
Ihr nächstes Abrechnungsdatum ist der {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation>Guten Tag {contact_name},

wir haben die automatische Verlängerung Ihres Abonnements für {product} beendet. Es bleibt bis zum {expiry_date} aktiv.
Bis dahin können Sie es jederzeit reaktivieren.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation>Guten Tag {contact_name},

Ihr Abonnement für {product} verlängert sich wieder automatisch. Ihr nächstes Abrechnungsdatum ist der {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation>Guten Tag {contact_name},

Ihre kostenlose Testphase für {product} endet am {trial_end}. Schließen Sie vorher ein Abonnement ab, um das Produkt weiter zu nutzen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation>Guten Tag {contact_name},

Ihre kostenlose Testphase für {product} ist am {trial_end} abgelaufen. Es wurde nichts berechnet. Sie können jederzeit ein Abonnement abschließen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation>Guten Tag {contact_name},

Ihr Abonnement für {product} wurde für den Zeitraum {period} verlängert.
Rechnung {invoice_number}: {total}. Der Betrag wurde über {charged_to} abgebucht.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation>Guten Tag {contact_name},

Ihr Abonnement für {product} wurde für den Zeitraum {period} verlängert.
Rechnung {invoice_number}: {total}. Bitte zahlen Sie {amount_due} bis zum {due_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation>Guten Tag {contact_name},

Ihr Abonnement für {product} wurde für den Zeitraum {period} verlängert.
Rechnung {invoice_number}: {total}. Der Betrag wurde mit Ihrem Kontoguthaben beglichen; es ist nichts zu zahlen.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation>Guten Tag {contact_name},

wir haben Ihre Zahlung über {amount} für {invoice_numbers} erhalten. Vielen Dank.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation>Guten Tag {contact_name},

wir haben Ihre Zahlung über {amount} erhalten. Sie wurde Ihrem Kontoguthaben gutgeschrieben und wird mit Ihren nächsten Rechnungen verrechnet. Vielen Dank.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation>Guten Tag {contact_name},

wir haben Ihre Zahlung über {amount} für {invoice_numbers} erhalten; davon wurden {to_credit} Ihrem Kontoguthaben gutgeschrieben. Vielen Dank.
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
Mit freundlichen Grüßen
Ihr Abrechnungsteam

Konto {account_number} · {company_name}
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
        <translation>Art</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Betreff</translation>
    </message>
    <message>
        <source>To</source>
        <translation>An</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Gesendet am {when}</translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation>Letzter Fehler: {error}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Nächster Versuch: {when}</translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation>Wartet auf Versand</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Kopie an {addresses}</translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Bestellbestätigung</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Kündigungsbestätigung</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Reaktivierung</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Testphase endet bald</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Testphase beendet</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Verlängerungsrechnung</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Zahlung erhalten</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>In Warteschlange</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n E-Mail</numerusform>
            <numerusform>%n E-Mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n E-Mail, {failed} fehlgeschlagen</numerusform>
            <numerusform>%n E-Mails, {failed} fehlgeschlagen</numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Wählen Sie eine E-Mail aus, um sie zu lesen.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, Kopie an {cc}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Gesendet am {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Nach %n Versuch fehlgeschlagen: {error}</numerusform>
            <numerusform>Nach %n Versuchen fehlgeschlagen: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation>In Warteschlange seit {when}</translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation>&amp;Erneut senden</translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation>Die ausgewählte fehlgeschlagene E-Mail beim nächsten Versandlauf erneut senden</translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation>An diesen Kunden wurde noch keine E-Mail gesendet.</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>An:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Betreff:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation>An den Kunden gesendete E-Mails</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Text der E-Mail</translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Bestellbestätigung</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Kündigungsbestätigung</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Reaktivierung</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Testphase endet bald</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Testphase beendet</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Verlängerungsrechnung</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Zahlung erhalten</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>Ausstehend</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation>Alle E-Mails ({count})</translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation>Ausstehend ({count})</translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation>Fehlgeschlagen ({count})</translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation>Noch nicht gesendet ({count})</translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation>Gesendet ({count})</translation>
    </message>
    <message>
        <source>{status}: {error}</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``).</extracomment>
        <translation>{status}: {error}</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Kopie an {addresses}</translation>
    </message>
    <message>
        <source>{number} · {company}</source>
        <translation>{number} · {company}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Gesendet am {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Nach %n Versuch fehlgeschlagen: {error}</numerusform>
            <numerusform>Nach %n Versuchen fehlgeschlagen: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>kein Grund angegeben</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Nächster Versuch: {when}</translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>Ausstehend seit {when}; %n früherer Versuch fehlgeschlagen: {error}</numerusform>
            <numerusform>Ausstehend seit {when}; %n frühere Versuche fehlgeschlagen: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Pending since {when}</source>
        <translation>Ausstehend seit {when}</translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>the server-level problem (unreachable, login refused), translatable The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation>Ein Mailserver ist eingerichtet.</translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation>Kein Mailserver eingerichtet: E-Mails warten im Postausgang.</translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation>Richten Sie den SMTP-Server in den Einstellungen ein.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln E-Mail</numerusform>
            <numerusform>%Ln E-Mails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n E-Mail wird gesendet, sobald ein Mailserver eingerichtet ist (Einstellungen, SMTP-Server). Nichts ging verloren.</numerusform>
            <numerusform>%n E-Mails werden gesendet, sobald ein Mailserver eingerichtet ist (Einstellungen, SMTP-Server). Nichts ging verloren.</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation>Es ist kein Mailserver eingerichtet, daher wurde nichts gesendet. Die E-Mails bleiben im Postausgang; richten Sie den SMTP-Server in den Einstellungen ein und senden Sie sie erneut.</translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation>Derzeit ist keine E-Mail fällig. Fehlgeschlagene E-Mails werden zum nächsten Versuchszeitpunkt erneut versendet, oder wählen Sie sie aus und klicken Sie auf „Jetzt erneut senden“.</translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation>E-Mails werden gesendet</translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>%n E-Mail wird an den Mailserver gesendet…</numerusform>
            <numerusform>%n E-Mails werden an den Mailserver gesendet…</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation>Es ist kein Mailserver eingerichtet, daher wurde nichts gesendet. Die E-Mails bleiben im Postausgang.</translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>Der Mailserver konnte nicht verwendet werden, daher bleibt %n E-Mail im Postausgang und wird später erneut gesendet. Antwort des Servers: {error}</numerusform>
            <numerusform>Der Mailserver konnte nicht verwendet werden, daher bleiben %n E-Mails im Postausgang und werden später erneut gesendet. Antwort des Servers: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n E-Mail gesendet.</numerusform>
            <numerusform>%n E-Mails gesendet.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n E-Mail gesendet; {failed} vom Server abgelehnt (siehe „Letzter Fehler“).</numerusform>
            <numerusform>%n E-Mails gesendet; {failed} vom Server abgelehnt (siehe „Letzter Fehler“).</numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation>Der Versand wurde abgebrochen. Die bereits gesendeten E-Mails sind als gesendet markiert; die übrigen bleiben im Postausgang.</translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Wählen Sie eine E-Mail aus, um sie zu lesen.</translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation>Hier gibt es noch keine E-Mails.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, Kopie an {cc}</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>An&amp;zeigen:</translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation>&amp;Jetzt erneut senden</translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation>Die ausgewählten fehlgeschlagenen oder ausstehenden E-Mails sofort senden, ohne zu warten</translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation>Ausstehende jetzt &amp;senden</translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation>Alle wartenden und jetzt fälligen E-Mails an den Mailserver senden</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>K&amp;onto öffnen</translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation>Das Konto anzeigen, an das diese E-Mail gesendet wurde</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>An:</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>Konto:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Betreff:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation>E-Mails an Kunden</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Text der E-Mail</translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message>
        <source>What this step is about is not on the screen yet: do the steps before it first.</source>
        <extracomment>View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers) what the last Prepare found (a result, or the error reading the account)</extracomment>
        <translation>Worum es in diesem Schritt geht, ist noch nicht auf dem Bildschirm: Führen Sie zuerst die vorherigen Schritte aus.</translation>
    </message>
    <message>
        <source>Choose a walkthrough: it follows a help article step by step on a demo account, and ticks each step as you do it.</source>
        <translation>Wählen Sie eine Anleitung: Sie folgt einem Hilfeartikel Schritt für Schritt an einem Demokonto und hakt jeden Schritt ab, sobald Sie ihn ausgeführt haben.</translation>
    </message>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>%n Schritt erledigt.</numerusform>
            <numerusform>Alle %n Schritte erledigt.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done! {outcome}</source>
        <translation>Fertig! {outcome}</translation>
    </message>
    <message>
        <source>Step {number} of {total}</source>
        <translation>Schritt {number} von {total}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, done: {text}</source>
        <translation>Schritt {number} von {total}, erledigt: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, current: {text}</source>
        <translation>Schritt {number} von {total}, aktuell: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}: {text}</source>
        <translation>Schritt {number} von {total}: {text}</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>Leitfaden</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>&amp;Leitfaden</translation>
    </message>
    <message>
        <source>&amp;Walkthrough:</source>
        <translation>Anleitun&amp;g:</translation>
    </message>
    <message>
        <source>Choose a walkthrough…</source>
        <translation>Anleitung auswählen…</translation>
    </message>
    <message>
        <source>Pr&amp;epare</source>
        <translation>Vor&amp;bereiten</translation>
    </message>
    <message>
        <source>Open the demo account of this walkthrough and start from step 1</source>
        <translation>Das Demokonto dieser Anleitung öffnen und mit Schritt 1 beginnen</translation>
    </message>
    <message>
        <source>Show &amp;me</source>
        <translation>&amp;Zeigen</translation>
    </message>
    <message>
        <source>Point at what the current step is about</source>
        <translation>Auf das zeigen, worum es im aktuellen Schritt geht</translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation>Rechnung</translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation>Rechnungsnummer</translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation>Rechnungsdatum</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Fälligkeitsdatum</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Leistungszeitraum</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation>Rechnungsempfänger</translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation>z. Hd. {name}</translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation>USt-IdNr.: {vat_number}</translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation>Bestellnummer: {po_number}</translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation>Zahlungsbedingungen: {days} Tage netto</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Beschreibung</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Abrechnungszeitraum</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Menge</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Einzelpreis</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Zwischensumme</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>USt. {rate}</translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation>Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)</translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation>Angerechnetes Kontoguthaben</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>Bezahlter Betrag</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Fälliger Betrag</translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation>Bitte zahlen Sie {amount} bis zum {due_date} unter Angabe der Rechnungsnummer {number}.</translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation>Vollständig bezahlt. Vielen Dank.</translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation>Diese Rechnung wurde storniert und ist nicht zahlbar.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Beanstandet am {date}: {note}</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>STORNIERT</translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation>Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL).</translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation>Leistung</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Abrechnungszeitraum</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Menge</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Einzelpreis</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation>Offen</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Überfällig</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Bezahlt</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Storniert</translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation>{status}, beanstandet</translation>
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
        <translation>Konto-ID</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Leistungszeitraum</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation>Offener Betrag</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Fällig am</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation>Rechnungsnummern folgen der Reihenfolge, in der die Rechnungen ausgestellt wurden</translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation>Der Tag, an dem die Rechnung ausgestellt wurde; sortieren Sie nach Nummer für diese Reihenfolge</translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation>Sortiert nach Konto, innerhalb jedes Kontos nach Rechnungsdatum</translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation>Sortiert nach Firma, innerhalb jedes Kontos nach Rechnungsdatum</translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation>Was auf der Rechnung noch zu zahlen ist</translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation>Sortiert: zuerst offene (überfällige ganz oben), dann bezahlte, dann stornierte</translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation>Offener Betrag: {amount}</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Nichts ist fällig.</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Kontoguthaben: {amount}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>&amp;Offene Rechnungen (%n)</numerusform>
            <numerusform>&amp;Offene Rechnungen (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>&amp;Bezahlte Rechnungen (%n)</numerusform>
            <numerusform>&amp;Bezahlte Rechnungen (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation>Keine offenen Rechnungen: Alles ist bezahlt.</translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation>Rechnungsdetails</translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation>Wählen Sie eine Rechnung aus, um ihre Positionen zu sehen.</translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation>Rechnung {number} vom {date}</translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation>USt. (Reverse Charge)</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>USt. {rate}</translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation>Überfällig: war fällig am {date}.</translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation>Fällig am {date}.</translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Storniert am {date}: {reason}</translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation>{amount} am {date} über {method} bezahlt.</translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation>Reverse Charge: USt-IdNr. des Kunden {vat}.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Beanstandet am {date}: {note}</translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation>Kann bis zum {date} beanstandet werden.</translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation>Die Frist für Beanstandungen endete am {date}.</translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation>Banküberweisung</translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation>Eine stornierte Rechnung kann nicht beanstandet werden.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation>Rechnungen können innerhalb von 15 Tagen nach Ausstellung beanstandet werden; der letzte Tag für {number} war der {date}.</translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation>Die Standardkarte {method} ist abgelaufen. Fügen Sie zuerst eine neue Karte hinzu oder legen Sie eine andere Zahlungsmethode als Standard fest.</translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation>Für dieses Konto ist nichts fällig.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Ihre Rolle kann dieses Konto ansehen, aber nicht ändern.</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Saldo begleichen</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Banküberweisung über {amount} für Konto {account} erfassen?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>{amount} über {method} für Konto {account} abbuchen?</translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation>Die offenen Rechnungen werden beginnend mit der ältesten bezahlt, und der Kunde wird per E-Mail benachrichtigt.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>{amount} &amp;bezahlen</translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation>{amount} wurde über {method} vereinnahmt.</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n Rechnung bezahlt: {numbers}.</numerusform>
            <numerusform>%n Rechnungen bezahlt: {numbers}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation>{amount} wurde dem Kontoguthaben gutgeschrieben.</translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation>Jetzt offener Betrag: {amount}.</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Zahlung erfasst</translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation>Eine Zahlungsbestätigung wurde per E-Mail an den Kunden gesendet.</translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation>Die Beanstandung wurde auf Rechnung {number} vermerkt.</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Rechnung {number} wird vorbereitet…</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Es konnte kein PDF-Viewer gestartet werden; die Rechnung liegt unter {path}.</translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation>Rechnung als PDF speichern</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF-Dateien (*.pdf)</translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation>Rechnung {number} wurde unter {path} gespeichert.</translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation>Rechnung {number} wird gespeichert…</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} is not writable. Choose another folder and save again.</source>
        <translation>Rechnung {number} wurde nicht gespeichert: Der Ordner {folder} ist nicht beschreibbar. Wählen Sie einen anderen Ordner und speichern Sie erneut.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} does not exist. Choose another folder and save again.</source>
        <translation>Rechnung {number} wurde nicht gespeichert: Der Ordner {folder} existiert nicht. Wählen Sie einen anderen Ordner und speichern Sie erneut.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the disk is full. Free some space or choose another folder and save again.</source>
        <translation>Rechnung {number} wurde nicht gespeichert: Der Datenträger ist voll. Geben Sie Speicherplatz frei oder wählen Sie einen anderen Ordner und speichern Sie erneut.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved to {folder} ({error}). Choose another folder and save again.</source>
        <translation>Rechnung {number} wurde nicht in {folder} gespeichert ({error}). Wählen Sie einen anderen Ordner und speichern Sie erneut.</translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation>Die PDF-Datei konnte nicht geschrieben werden: {error}</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Abgebrochen; es wurde keine Datei geschrieben.</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Rechnungs-PDF</translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation>Saldo beg&amp;leichen…</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>&amp;PDF öffnen</translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation>PDF &amp;speichern…</translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation>B&amp;eanstanden…</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Zwischensumme</translation>
    </message>
    <message>
        <source>VAT</source>
        <translation>USt.</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation>Verwendetes Kontoguthaben</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Bezahlt</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Fälliger Betrag</translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation>Offen</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Überfällig</translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation>Offen, beanstandet</translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation>Überfällig, beanstandet</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Bezahlt</translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation>Bezahlt, beanstandet</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Storniert</translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation>Storniert, beanstandet</translation>
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
        <translation>Leistungszeitraum</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Beschreibung</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Fälliger Betrag</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (+%n weitere)</numerusform>
            <numerusform>{description} (+%n weitere)</numerusform>
        </translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Storniert am {date}: {reason}</translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation>War fällig am {date}</translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation>Fällig am {date}</translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id. The filter bar&apos;s and the action row&apos;s widgets, built right after the first paint (:meth:`_build_filters`) or when first used, whichever comes first. painted right after the table&apos;s first page: the list is what the user waits for</extracomment>
        <translation>Die PDF-Datei konnte nicht geschrieben werden: {error}</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>Rechnungs-PDF</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Rechnung {number} wird vorbereitet…</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Abgebrochen; es wurde keine Datei geschrieben.</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Es konnte kein PDF-Viewer gestartet werden; die Rechnung liegt unter {path}.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln Rechnung</numerusform>
            <numerusform>%Ln Rechnungen</numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation>Keine Rechnungen entsprechen den Filtern.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Alle Filter löschen</translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation>Noch keine Rechnungen.</translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation>Rechnungen erscheinen hier, sobald Bestellungen oder Verlängerungen abgerechnet werden.</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>&amp;Konto:</translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation>Konto-ID oder Firma</translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation>Geben Sie den Anfang einer Konto-ID oder eines Firmennamens ein (Strg+F)</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Status:</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Alle Status</translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation>Nur Rechnungen mit diesem Status anzeigen</translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation>Nur über&amp;fällige</translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation>Nur offene Rechnungen nach Fälligkeitsdatum anzeigen</translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation>Ausgestellt &amp;vom:</translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation>&amp;bis:</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Beliebiges Datum</translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation>Das Rechnungsdatum; Entf setzt es auf „Beliebiges Datum“ zurück</translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation>Filter &amp;löschen</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>K&amp;onto öffnen</translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation>Das Konto der ausgewählten Rechnung öffnen</translation>
    </message>
    <message>
        <source>Open account</source>
        <translation>Konto öffnen</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>&amp;PDF öffnen</translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation>Die ausgewählte Rechnung als PDF anzeigen</translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation>PDF öffnen</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Rechnungen</translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation>&amp;Sprache der Anwendung:</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Systemsprache</translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation>Die neue Sprache wird sofort und bei jedem Start verwendet. Kunden-E-Mails und Rechnungen behalten die Sprache des jeweiligen Kontos.</translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation>Kontakt</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rollen</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation>{name} (Abrechnungskontakt)</translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n zu viel für {licences} Lizenzen</numerusform>
            <numerusform>%n zu viele für {licences} Lizenzen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n von {licences} frei</numerusform>
            <numerusform>%n von {licences} frei</numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation>{product} ({plan})</translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation>{product}, Tarif {plan}, {status}: {assigned} von {licences} zugewiesen</translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation>{name} erhält beim Übernehmen eine Lizenz für {product}.</translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation>{name} verliert beim Übernehmen die Lizenz für {product}.</translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation>Keine Lizenz für {product} ist frei. Kaufen Sie weitere Lizenzen oder heben Sie zuerst eine Zuweisung auf.</translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation>{product}
{seats}</translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation>{name}: Lizenz für {product}</translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation>Testphase</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Aktiv</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Kündigung ausstehend</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Nicht erfasst</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation>{name} (Abrechnungskontakt)</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n Änderung noch nicht übernommen</numerusform>
            <numerusform>%n Änderungen noch nicht übernommen</numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation>Änderungen übernommen.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>Angefordert &amp;von:</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation>Der Kontakt, der die Änderung angefordert hat; wird in der Aktivität erfasst</translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation>&amp;Zurücksetzen</translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation>Die noch nicht übernommenen Änderungen verwerfen</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>Ü&amp;bernehmen</translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation>Lizenzen gemäß den Häkchen zuweisen und Zuweisungen aufheben</translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation>Dieses Konto hat kein Abonnement in der Testphase oder aktiv, daher gibt es keine Lizenzen zuzuweisen.</translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation>Lizenzen der einzelnen Kontakte</translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation>Allen Benutzern zuweisen</translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation>Jeden Kontakt für {product} ankreuzen</translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation>Allen Benutzern {product} zuweisen</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Alle Zuweisungen aufheben</translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation>Alle Kontakte für {product} abwählen</translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation>Alle Benutzerzuweisungen für {product} aufheben</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation>Administrator</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>Support</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Kundenbetreuer</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>Trainer</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Betrachter</translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>After the first paint, when the trainer&apos;s tools and presentation mode are added. How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation>Konten</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Rechnungen</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>E-Mails</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the sandbox menu, simulated clock, guide and presentation mode are in place View ▸ Accounts, Invoices, … by view key View ▸ Language ▸ each language by code the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation>Bearbeiter: {name} ({role})</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Datenbank: {name}</translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation>Heute: {date} (simuliert)</translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation>Diese Datenbank verwendet ein simuliertes Datum, nicht die Uhr des Computers.</translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation>Heute: {date}</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;Ein Backoffice für die Abrechnung von Software-Abonnements.&lt;/p&gt;&lt;p&gt;Datenbank: {database}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation>Über Billing Desktop</translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation>{database} (Demo)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation>&amp;Demodatenbank öffnen</translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation>Zur Demodatenbank mit Beispielkonten wechseln</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation>Konto &amp;suchen…</translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation>Ein Konto nach ID, Firma, Name oder E-Mail eines Kontakts oder Rechnungsnummer suchen</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation>Sprache, Datenbank, Mailserver, Design und Bearbeiteridentität</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>S&amp;prache</translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation>&amp;Navigation anzeigen</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>A&amp;ktualisieren</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation>Ü&amp;ber Billing Desktop</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>Navigation</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DEMO</translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation>Eine Demodatenbank: fiktive Kunden und ein simuliertes Datum.</translation>
    </message>
</context>
<context>
    <name>MissingDatabase</name>
    <message>
        <source>The database {path} cannot be found.</source>
        <translation>Die Datenbank {path} wurde nicht gefunden.</translation>
    </message>
    <message>
        <source>It was moved or deleted, or its drive or network share is not connected. Nothing was created in its place, and Billing Desktop looks for it again at the next start. You can open the default database for now, choose another database file, or quit and connect the drive first.</source>
        <translation>Sie wurde verschoben oder gelöscht, oder ihr Laufwerk oder ihre Netzwerkfreigabe ist nicht verbunden. An ihrer Stelle wurde nichts angelegt, und Billing Desktop sucht beim nächsten Start erneut nach ihr. Sie können vorerst die Standarddatenbank öffnen, eine andere Datenbankdatei wählen oder das Programm beenden und zuerst das Laufwerk verbinden.</translation>
    </message>
    <message>
        <source>Open the &amp;default database</source>
        <translation>&amp;Standarddatenbank öffnen</translation>
    </message>
    <message>
        <source>&amp;Choose another file…</source>
        <translation>&amp;Andere Datei wählen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Open a database file</source>
        <translation>Datenbankdatei öffnen</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db)</source>
        <translation>SQLite-Datenbanken (*.sqlite3 *.sqlite *.db)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
</context>
<context>
    <name>OperatorAdminMenu</name>
    <message>
        <source>&amp;Operators…</source>
        <translation>Be&amp;arbeiter…</translation>
    </message>
    <message>
        <source>Create operators, set their roles and assign representatives</source>
        <translation>Bearbeiter anlegen, ihre Rollen festlegen und Kundenbetreuer zuweisen</translation>
    </message>
    <message>
        <source>Only administrators manage operators</source>
        <translation>Nur Administratoren verwalten Bearbeiter</translation>
    </message>
</context>
<context>
    <name>OperatorFormDialog</name>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <extracomment>None: a new operator; else the operator whose password is reset the service&apos;s answer (the new or changed ``OperatorRow``) once accepted</extracomment>
        <translation>Die beiden Passwörter stimmen nicht überein; geben Sie es erneut ein.</translation>
    </message>
    <message>
        <source>New Operator</source>
        <translation>Neuer Bearbeiter</translation>
    </message>
    <message>
        <source>The new operator signs in with this email address and password. Tell them the password in person or by phone, not by email.</source>
        <translation>Der neue Bearbeiter meldet sich mit dieser E-Mail-Adresse und diesem Passwort an. Teilen Sie das Passwort persönlich oder telefonisch mit, nicht per E-Mail.</translation>
    </message>
    <message>
        <source>&amp;Create Operator</source>
        <translation>Bearbeiter &amp;anlegen</translation>
    </message>
    <message>
        <source>Reset Password</source>
        <translation>Passwort zurücksetzen</translation>
    </message>
    <message>
        <source>A new password for {name} ({email}). It also lifts a lock after failed sign-ins. Tell them the password in person or by phone, not by email.</source>
        <translation>Ein neues Passwort für {name} ({email}). Es hebt auch eine Sperre nach fehlgeschlagenen Anmeldeversuchen auf. Teilen Sie das Passwort persönlich oder telefonisch mit, nicht per E-Mail.</translation>
    </message>
    <message>
        <source>&amp;Set Password</source>
        <translation>Passwort &amp;festlegen</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;E-Mail-Adresse:</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>&amp;Rolle:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Passwort:</translation>
    </message>
    <message>
        <source>R&amp;epeat password:</source>
        <translation>Passwort &amp;wiederholen:</translation>
    </message>
    <message>
        <source>At least {count} characters, not the email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Mindestens {count} Zeichen, nicht die E-Mail-Adresse. Einige voneinander unabhängige Wörter ergeben ein gutes Passwort, das man sich leicht merken kann.</translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation>Bearbeiter</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Ihr &amp;Name:</translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation>Ihre &amp;E-Mail-Adresse:</translation>
    </message>
    <message>
        <source>Role:</source>
        <translation>Rolle:</translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation>Wird in der Statusleiste angezeigt und bei jeder Ihrer Änderungen in dieser Datenbank erfasst.</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>&amp;Enable</source>
        <translation>&amp;Aktivieren</translation>
    </message>
    <message>
        <source>&amp;Disable…</source>
        <translation>&amp;Deaktivieren…</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Sie können sich nicht selbst deaktivieren; ein anderer Administrator kann das tun.</translation>
    </message>
    <message>
        <source>Created the operator {name} ({role}).</source>
        <translation>Bearbeiter {name} ({role}) angelegt.</translation>
    </message>
    <message>
        <source>Change Role</source>
        <translation>Rolle ändern</translation>
    </message>
    <message>
        <source>Role of {name}:</source>
        <translation>Rolle von {name}:</translation>
    </message>
    <message>
        <source>&amp;Change Role</source>
        <translation>&amp;Rolle ändern</translation>
    </message>
    <message>
        <source>{name} is now {role}.</source>
        <translation>{name} hat jetzt die Rolle {role}.</translation>
    </message>
    <message>
        <source>Disable Operator</source>
        <translation>Bearbeiter deaktivieren</translation>
    </message>
    <message>
        <source>Disable {name} ({email})?</source>
        <translation>{name} ({email}) deaktivieren?</translation>
    </message>
    <message>
        <source>They can no longer sign in. Their work and the audit trail are kept, and you can enable them again at any time.</source>
        <translation>Die Anmeldung ist dann nicht mehr möglich. Die geleistete Arbeit und das Änderungsprotokoll bleiben erhalten, und Sie können den Bearbeiter jederzeit wieder aktivieren.</translation>
    </message>
    <message>
        <source>&amp;Disable</source>
        <translation>&amp;Deaktivieren</translation>
    </message>
    <message>
        <source>Enabled {name}.</source>
        <translation>{name} aktiviert.</translation>
    </message>
    <message>
        <source>Disabled {name}.</source>
        <translation>{name} deaktiviert.</translation>
    </message>
    <message>
        <source>Set a new password for {name}.</source>
        <translation>Neues Passwort für {name} festgelegt.</translation>
    </message>
    <message>
        <source>There is no active representative yet. Create an operator with the role Representative first.</source>
        <translation>Es gibt noch keinen aktiven Kundenbetreuer. Legen Sie zuerst einen Bearbeiter mit der Rolle Kundenbetreuer an.</translation>
    </message>
    <message>
        <source>Assign Representative</source>
        <translation>Kundenbetreuer zuweisen</translation>
    </message>
    <message>
        <source>Representative of {company} ({account}):</source>
        <translation>Kundenbetreuer von {company} ({account}):</translation>
    </message>
    <message>
        <source>&amp;Assign</source>
        <translation>&amp;Zuweisen</translation>
    </message>
    <message>
        <source>{account} no longer has a representative.</source>
        <translation>Das Konto {account} hat keinen Kundenbetreuer mehr.</translation>
    </message>
    <message>
        <source>{name} is now the representative of {account}.</source>
        <translation>{name} betreut jetzt das Konto {account}.</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>Bearbeiter</translation>
    </message>
    <message>
        <source>&amp;Operators</source>
        <translation>&amp;Bearbeiter</translation>
    </message>
    <message>
        <source>&amp;Corporate Accounts</source>
        <translation>&amp;Corporate-Konten</translation>
    </message>
    <message>
        <source>&amp;New Operator…</source>
        <translation>&amp;Neuer Bearbeiter…</translation>
    </message>
    <message>
        <source>Change &amp;Role…</source>
        <translation>&amp;Rolle ändern…</translation>
    </message>
    <message>
        <source>Reset &amp;Password…</source>
        <translation>&amp;Passwort zurücksetzen…</translation>
    </message>
    <message>
        <source>&amp;Assign Representative…</source>
        <translation>Kundenbetreuer &amp;zuweisen…</translation>
    </message>
    <message>
        <source>Re&amp;move Representative</source>
        <translation>Kundenbetreuer &amp;entfernen</translation>
    </message>
    <message>
        <source>Search by company name or account ID</source>
        <translation>Nach Firmenname oder Konto-ID suchen</translation>
    </message>
    <message>
        <source>No corporate account matches.</source>
        <translation>Kein Corporate-Konto entspricht der Suche.</translation>
    </message>
    <message>
        <source>Corporate accounts</source>
        <translation>Corporate-Konten</translation>
    </message>
</context>
<context>
    <name>OperatorsModel</name>
    <message>
        <source>Name</source>
        <extracomment>the search waits for a pause in typing</extracomment>
        <translation>Name</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rolle</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>Letzte Anmeldung</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Deaktiviert</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Gesperrt</translation>
    </message>
    <message>
        <source>No password</source>
        <translation>Kein Passwort</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Aktiv</translation>
    </message>
    <message>
        <source>Cannot sign in until an administrator enables it.</source>
        <translation>Keine Anmeldung möglich, bis ein Administrator den Bearbeiter wieder aktiviert.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.</source>
        <translation>Zu viele fehlgeschlagene Anmeldeversuche: gesperrt bis {time}. Das Zurücksetzen des Passworts hebt die Sperre auf.</translation>
    </message>
    <message>
        <source>Has no password, so cannot sign in to a shared database. Reset the password to give one.</source>
        <translation>Hat kein Passwort und kann sich daher nicht bei einer gemeinsam genutzten Datenbank anmelden. Setzen Sie das Passwort zurück, um eines zu vergeben.</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nie</translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches.</extracomment>
        <translation>Erstellt</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Empfänger</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Betreff</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation>Nächster Versuch</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation>Firmen&amp;name</translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation>Konto&amp;typ</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>Adr&amp;esse</translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation>Adress&amp;zeile 2</translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation>&amp;Postleitzahl</translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation>&amp;Ort</translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation>&amp;Region</translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation>&amp;Land</translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation>&amp;USt-IdNr.</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Sprache</translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation>&amp;Währung</translation>
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
        <translation>Name</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Rollen</translation>
    </message>
    <message>
        <source>The billing contact may change plans and receives the invoices.</source>
        <translation>Der Abrechnungskontakt darf Tarife ändern und erhält die Rechnungen.</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation>Zahlungsmethoden</translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation>Ein: Verlängerungsrechnungen werden über die Standardzahlungsmethode bezahlt.</translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation>Aus: Verlängerungsrechnungen bleiben offen, bis sie bezahlt werden.</translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation>{state} Ändern Sie dies unter {link}.</translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation>{days} Tage netto (Rechnungen sind {days} Tage nach Ausstellung fällig)</translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation>Fällig bei Erhalt</translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation>Keiner (Standardkonten verwalten sich selbst)</translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Der Abrechnungskontakt (fett) ist {name}. Kontakte und ihre Lizenzen werden unter „Benutzer &amp; Lizenzen“ verwaltet.</translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Das Konto hat keinen Abrechnungskontakt. Kontakte und ihre Lizenzen werden unter „Benutzer &amp; Lizenzen“ verwaltet.</translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation>Die Währung kann nicht geändert werden: Das Konto hat Rechnungen oder Guthaben in dieser Währung.</translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation>Die Währung kann bis zur ersten Rechnung geändert werden.</translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation>Keine Zahlungsmethode hinterlegt</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Karte</translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation>{brand} mit Endziffern {last4}, gültig bis {month}/{year}</translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation>{brand} mit Endziffern {last4}</translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation>Bankkonto mit Endziffern {last4}</translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation>Zahlt per Rechnung</translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation>Standardkonten verwalten sich selbst: {name} ist dann nicht mehr ihr Kundenbetreuer.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation>Corporate-Konten zahlen per Rechnung und werden von einem Kundenbetreuer betreut.</translation>
    </message>
    <message>
        <source>This account was changed by {operator} at {time}. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Dieses Konto wurde am {time} von {operator} geändert. Ihre Eingaben bleiben erhalten; „Neu laden“ zeigt die aktuellen Daten und verwirft Ihre Eingaben.</translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Dieses Konto wurde an anderer Stelle geändert. Ihre Eingaben bleiben erhalten; „Neu laden“ zeigt die aktuellen Daten und verwirft Ihre Eingaben.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Rechnungsadresse</translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation>Steuern und Dokumente</translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation>Salden und Abrechnung</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Kontakte</translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation>{label} *</translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation>Optional, z. B. DE123456789</translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation>Wird beim Tippen für das Rechnungsland geprüft; leer lassen, wenn keine vorhanden ist.</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Optional</translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation>Offener Saldo</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Kontoguthaben</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Automatische Zahlung</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Standardzahlungsmethode</translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation>Zahlungsbedingungen</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Kundenbetreuer</translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation>Sie können dieses Konto ansehen, aber nicht ändern.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation>Änderungen speichern (Strg+S)</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Zurücksetzen</translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation>Die Werte von vor Ihren Änderungen wiederherstellen</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Neu laden</translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation>Das Konto erneut aus der Datenbank lesen; nicht gespeicherte Änderungen werden verworfen</translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation>Geben Sie die Kartennummer weiter ein.</translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation>Wählen Sie Ablaufmonat und -jahr.</translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation>Geben Sie die IBAN weiter ein.</translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation>{country} •••• {last4}</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Karte hinzufügen</translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation>Gespeichert werden nur die Marke, die letzten vier Ziffern und das Ablaufdatum; die Kartennummer wird nie gespeichert.</translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation>&amp;Kartennummer:</translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation>1234 5678 9012 3456</translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation>&amp;Gültig bis:</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>Monat</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>Jahr</translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation>&amp;Name auf der Karte:</translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation>Rechnungsadresse der Karte</translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation>Leer lassen, um die Rechnungsadresse des Kontos zu verwenden.</translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation>&amp;Straße:</translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation>&amp;Postleitzahl:</translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation>&amp;Ort:</translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation>&amp;Ländercode:</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>DE</translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation>Diese Karte als S&amp;tandardzahlungsmethode festlegen</translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation>Bankkonto hinzufügen</translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation>Das Konto wird per SEPA-Lastschrift belastet. Gespeichert werden nur das Land und die letzten vier Zeichen der IBAN.</translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation>&amp;IBAN:</translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation>DE89 3704 0044 0532 0130 00</translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation>&amp;Kontoinhaber:</translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation>Dieses Bankkonto als &amp;Standardzahlungsmethode festlegen</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>&amp;Hinzufügen</translation>
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
        <translation>Karte</translation>
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
        <translation>Bankkonto ({country}) •••• {last4}</translation>
    </message>
    <message>
        <source>Invoice (bank transfer)</source>
        <translation>Rechnung (Banküberweisung)</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation>Zahlungsmethode</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Inhaber</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Gültig bis</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Rechnungsadresse</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Standard</translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation>Standard, abgelaufen</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Abgelaufen</translation>
    </message>
    <message>
        <source>Autopay and Pay balance charge the default method.</source>
        <translation>Automatische Zahlung und „Saldo begleichen“ belasten die Standardzahlungsmethode.</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Zahlt per Rechnung (%n Tag netto)</numerusform>
            <numerusform>Zahlt per Rechnung (%n Tage netto)</numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation>Corporate-Konten erhalten Rechnungen gemäß ihren Zahlungsbedingungen; Karten und Bankkonten werden nur verwendet, wenn eine Zahlung erfasst wird.</translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation>Verlängerungsrechnungen werden sofort über die Standardzahlungsmethode abgebucht.</translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation>Verlängerungsrechnungen bleiben offen, bis der Kunde sie bezahlt.</translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation>Keine Zahlungsmethode hinterlegt.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Ihre Rolle kann dieses Konto ansehen, aber nicht ändern.</translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation>Eine abgelaufene Karte kann nicht die Standardzahlungsmethode sein.</translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation>Dies ist bereits die Standardzahlungsmethode.</translation>
    </message>
    <message>
        <source>Nothing was changed: {operator} changed this account at {time}. The list now shows the current data.</source>
        <translation>Es wurde nichts geändert: {operator} hat dieses Konto am {time} geändert. Die Liste zeigt jetzt die aktuellen Daten.</translation>
    </message>
    <message>
        <source>Nothing was changed: this account was changed elsewhere. The list now shows the current data.</source>
        <translation>Es wurde nichts geändert: Dieses Konto wurde an anderer Stelle geändert. Die Liste zeigt jetzt die aktuellen Daten.</translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation>{method} wurde hinzugefügt.</translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation>{method} ist jetzt die Standardzahlungsmethode.</translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation>Zahlungsmethode entfernen</translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation>{method} aus diesem Konto entfernen?</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Entfernen</translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation>{method} wurde entfernt.</translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation>Automatische Zahlung ist aktiviert.</translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation>Automatische Zahlung ist deaktiviert.</translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation>&amp;Automatische Zahlung: Verlängerungen über die Standardzahlungsmethode abbuchen</translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation>&amp;Karte hinzufügen…</translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation>&amp;Bankkonto hinzufügen…</translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation>Als &amp;Standard festlegen</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>&amp;Entfernen…</translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation>Hinterlegte Zahlungsmethode &amp;verwenden: {method}</translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation>Gültige USt-IdNr.: Das Reverse-Charge-Verfahren gilt, es wird keine USt. berechnet (0 %).</translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation>Gültige USt-IdNr.: Es wird USt. von {rate} berechnet.</translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation>Zahlung und USt.</translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation>Geben Sie Ihre Zahlungsdaten ein und/oder fügen Sie Ihre USt-IdNr. hinzu. Klicken Sie dann auf „Bestellung aufgeben“.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation>Zahlungsmethode</translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation>&amp;Neue Karte eingeben</translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation>Bank&amp;konto eingeben (SEPA-Lastschrift)</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>USt-IdNr.</translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation>Eine gültige USt-IdNr. aus einem anderen EU-Land als dem des Verkäufers bedeutet Reverse Charge: Es wird keine USt. berechnet.</translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation>&amp;USt-IdNr.:</translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation>z. B. DE123456789</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Gesamt</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Bestellung &amp;aufgeben</translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation>Derzeit ist keine Änderung möglich.</translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation>Korrigieren Sie die Auswahl, um die Bestellung zu sehen.</translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation>Wählen Sie einen anderen Tarif, eine andere Lizenzanzahl, ein anderes Abrechnungsintervall oder ein Add-on, um die Kosten der Änderung zu sehen.</translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation>Die Änderung wird heute wirksam.</translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation>Tarif:</translation>
    </message>
    <message>
        <source>{old} → {new}</source>
        <translation>{old} → {new}</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Lizenzen:</translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation>Abrechnungsintervall:</translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation>Neuer Abrechnungszeitraum:</translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation>Kosten für den Zeitraum:</translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation>Gutschrift für nicht genutzte Tage:</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (Reverse Charge)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>USt.:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Jetzt fälliger Gesamtbetrag:</translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation>Auf das Kontoguthaben:</translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation>Die Prüfseite zeigt die genaue Rechnung.</translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Ihr Warenkorb enthält %n Produkt.</numerusform>
            <numerusform>Ihr Warenkorb enthält %n Produkte.</numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation>Ihr Warenkorb ist leer.</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Zur &amp;Kasse</translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation>&amp;In den Warenkorb</translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation>Produkt- oder Lizenzänderung für Konto {account}</translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation>Tarif auswählen</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation>Die kostenlose Testphase von {product} ist beendet. Wählen Sie Tarifstufe, Anzahl der Lizenzen und Abrechnungsintervall, um ein Abonnement abzuschließen.</translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation>Wählen Sie Tarifstufe, Anzahl der Lizenzen und Abrechnungsintervall für {product}.</translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation>Ändern Sie den Tarif von {product}: eine höhere Tarifstufe, mehr oder weniger Lizenzen, ein anderes Abrechnungsintervall oder Add-ons. Änderungen werden heute wirksam.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Angefordert von:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation>{name} &lt;{email}&gt; — Abrechnungskontakt</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation>Der Kontakt, der die Änderung angefordert hat; wird mit der Bestellung erfasst</translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation>Sie handeln mit Backoffice-Befugnissen: Eine niedrigere Tarifstufe kann gewählt werden, und die Bestellung wird als Backoffice-Änderung erfasst.</translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation>&amp;E-Mail an den Abrechnungsadministrator</translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation>Saldo &amp;begleichen</translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation>&amp;Tarifstufe</translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation>&amp;Lizenzen:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n Lizenz Benutzern zugewiesen</numerusform>
            <numerusform>%n Lizenzen Benutzern zugewiesen</numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation>Lizenzen &amp;verwalten</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Abrechnungsintervall</translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation>&amp;Monatlich</translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation>&amp;Jährlich</translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation>A&amp;dd-ons</translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation>Bestellübersicht</translation>
    </message>
    <message>
        <source>Cart</source>
        <translation>Warenkorb</translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation>Warenk&amp;orb anzeigen</translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation>{plan} — {price} (aktueller Tarif)</translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation>{plan} — {price}</translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation>{addon} — {price} (inbegriffen)</translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation>{addon} — {price}</translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation>nicht in {currency} erhältlich</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. Each language by its own name (never translated: a reader looks for their own). The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation>Geben Sie eine Datenbankdatei oder eine Server-URL ein.</translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation>Geben Sie den vollständigen Pfad der Datenbankdatei ein, nicht {path}.</translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation>{path} ist ein Ordner, keine Datenbankdatei.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>Der Ordner {folder} existiert nicht.</translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation>Dies ist keine Datenbank-URL. Schreiben Sie sie als postgresql://benutzer:passwort@server:5432/datenbank.</translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation>Eine SQLite-Datenbank muss eine Datei sein.</translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation>{scheme}-Datenbanken werden nicht unterstützt. Verwenden Sie eine SQLite-Datei oder einen PostgreSQL-Server (postgresql://…).</translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation>Die URL benötigt nach // einen Servernamen.</translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation>Die URL benötigt nach dem Server einen Datenbanknamen (/datenbank).</translation>
    </message>
</context>
<context>
    <name>PresentationController</name>
    <message>
        <source>&amp;Presentation</source>
        <extracomment>The scales offered, in per cent. dynamic properties holding a widget&apos;s unscaled sizes while the mode is on QFont::SizeResolved (PySide does not expose QFont::ResolveProperties) Class fonts a platform theme may set (QApplication&apos;s initializeWidgetFontHash). Qt&apos;s own helper buttons, sized by their owner: never rescaled MainWindow&apos;s navigation: item height = line height + this, width ≥ this minimum (the formula of ``MainWindow.__init__`` / ``_fit_navigation``) How often the customer view re-reads its account while shown (a moved clock). the caption shown now (&quot;&quot; when none) where the mouse was last pressed (window coordinates) keys that do something rather than type: named even in a text field typed text kept in a caption</extracomment>
        <translation>Präsen&amp;tation</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>&amp;Präsentationsmodus</translation>
    </message>
    <message>
        <source>Enlarge the whole window for a projector or a screen share</source>
        <translation>Das gesamte Fenster für einen Beamer oder eine Bildschirmfreigabe vergrößern</translation>
    </message>
    <message>
        <source>&amp;Scale</source>
        <translation>&amp;Skalierung</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent} %</translation>
    </message>
    <message>
        <source>Show &amp;Clicks and Keys</source>
        <translation>&amp;Klicks und Tasten anzeigen</translation>
    </message>
    <message>
        <source>Show where the mouse is clicked and which keys are pressed</source>
        <translation>Anzeigen, wo mit der Maus geklickt wird und welche Tasten gedrückt werden</translation>
    </message>
    <message>
        <source>C&amp;ustomer View</source>
        <translation>Kunden&amp;ansicht</translation>
    </message>
    <message>
        <source>Show the open account&apos;s Billing Center as its billing contact sees it</source>
        <translation>Das Abrechnungscenter des geöffneten Kontos so anzeigen, wie sein Abrechnungskontakt es sieht</translation>
    </message>
    <message>
        <source>Customer View</source>
        <translation>Kundenansicht</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation>Verlängerungen werden ausgeführt</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation>Konto-ID {text}</translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation>Firmenname {text}</translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation>Kontakt {text}</translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation>Kontakt-E-Mail {text}</translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation>Rechnung {text}</translation>
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
        <translation>Geben Sie eine Konto-ID, einen Firmennamen, den Namen oder die E-Mail-Adresse eines Kontakts oder eine Rechnungsnummer ein.</translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation>Kein Konto entspricht „{text}“.</translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>Das erste gefundene Konto. Geben Sie mehr ein, um die Suche einzugrenzen.</numerusform>
            <numerusform>Die ersten %n gefundenen Konten. Geben Sie mehr ein, um die Suche einzugrenzen.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n Konto gefunden. Die Eingabetaste öffnet das ausgewählte.</numerusform>
            <numerusform>%n Konten gefunden. Die Eingabetaste öffnet das ausgewählte.</numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation>Konto suchen</translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation>Konto-ID, Firma, Name oder E-Mail eines Kontakts, Rechnungsnummer</translation>
    </message>
    <message>
        <source>Find account</source>
        <translation>Konto suchen</translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation>Gefundene Konten</translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation>Dieses Abonnement ist nicht mehr auffindbar.</translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation>{product} wurde reaktiviert: Die Testphase läuft weiter bis zum {date}. Eine Bestätigungs-E-Mail wurde gesendet.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation>{product} wurde reaktiviert. Das nächste Abrechnungsdatum ist der {date}. Eine Bestätigungs-E-Mail wurde gesendet.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation>{product} wurde reaktiviert. Eine Bestätigungs-E-Mail wurde gesendet.</translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation>Abonnement reaktivieren</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Reaktivieren</translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation>&amp;Kündigung beibehalten</translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation>{product} reaktivieren?</translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation>Die Testphase läuft weiter bis zum {date}; sie ist nicht mehr gekündigt.</translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation>{product} verlängert sich wieder automatisch. Das nächste Abrechnungsdatum ist der {date}.</translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation>{product} verlängert sich wieder automatisch.</translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation>Ohne Reaktivierung läuft es am {date} ab.</translation>
    </message>
</context>
<context>
    <name>RenewalsModel</name>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation>Verlängerung am</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Betrag</translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation>E-Mail:</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>Rollen:</translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation>Abrechnungskontakt:</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Ja</translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation>Zur Kündigung berechtigt:</translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation>Ja, für über einen Kundenbetreuer gekaufte Produkte</translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation>{product}: {rule}</translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation>Noch nichts ausgewählt.</translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation>Wählen Sie den anfragenden Kontakt aus, um zu sehen, ob er dazu berechtigt ist.</translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation>{contact} darf die Kündigung von {product} nicht beantragen. {rule}</translation>
    </message>
    <message>
        <source>Requester</source>
        <translation>Antragsteller</translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation>Schritt 2 von 6: Welcher Kontakt beantragt die Kündigung, und ist er dazu berechtigt?</translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation>Nur bestimmte Rollen dürfen den Support um die Kündigung eines Produkts bitten. Wählen Sie den anrufenden Kontakt aus; die Regel jedes zu kündigenden Produkts wird geprüft.</translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation>Anfragender &amp;Kontakt:</translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation>Wer darf anfragen</translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation>Kontakt auswählen…</translation>
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
            <numerusform>%n Position gekündigt. Die automatische Verlängerung ist deaktiviert.</numerusform>
            <numerusform>%n Positionen gekündigt. Die automatische Verlängerung ist deaktiviert.</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation>aktiv bis zum {date}, noch berechnet: {amount}</translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation>{number}: {amount}, mit der hinterlegten Zahlungsmethode bezahlt</translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation>{number}: {amount}, offen (zu zahlen)</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Rechnung für vorzeitige Kündigung:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Jetzt berechnet:</translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation>Nichts: Der laufende Zeitraum wurde bereits in Rechnung gestellt.</translation>
    </message>
    <message>
        <source>Email:</source>
        <translation>E-Mail:</translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n Bestätigungs-E-Mail an {email} gesendet</numerusform>
            <numerusform>%n Bestätigungs-E-Mails an {email} gesendet</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Gekündigt</translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation>Die Kündigung ist erfasst, und der Kunde wurde per E-Mail benachrichtigt.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation>Bestellung:</translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation>Rechnung:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n Lizenz (vorher {old})</numerusform>
            <numerusform>%n Lizenzen (vorher {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n Lizenz</numerusform>
            <numerusform>%n Lizenzen</numerusform>
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
        <translation>Nächstes Abrechnungsdatum:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Gesamt:</translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation>Jetzt abgebucht:</translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation>{amount} über {method}</translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation>Zahlbar bis zum {date}:</translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation>Dem Kontoguthaben gutgeschrieben:</translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation>Eine Bestätigungs-E-Mail mit den Details Ihres Kaufs wurde an {email} gesendet.</translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation>Ihr Abonnement wurde aktualisiert. Der Abrechnungszeitraum beginnt heute, und das Abrechnungsdatum entspricht jetzt dem Tag der Änderung.</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Bestellung aufgegeben</translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation>Die Änderungen sind sofort wirksam.</translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation>Sie haben Lizenzen hinzugefügt: Vergessen Sie nicht, sie Ihren Benutzern zuzuweisen, damit diese sich anmelden können.</translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation>&amp;Lizenzen jetzt zuweisen</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <translation>Zahlungsmethode: {method}</translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation>Bestätigen Sie als Nächstes die Zahlungsdaten und/oder die USt-IdNr.</translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation>Kasse</translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation>Prüfen Sie den Abrechnungszeitraum (ab heute), die Lizenzen, den Tarifpreis und den fälligen Gesamtbetrag. Klicken Sie auf „Bestellung bearbeiten“, um weitere Änderungen vorzunehmen.</translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation>Ihre Bestellung:</translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation>Bestellung &amp;bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>Zur &amp;Kasse</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>Bestellung &amp;aufgeben</translation>
    </message>
</context>
<context>
    <name>SandboxMenu</name>
    <message>
        <source>New Demo Database</source>
        <extracomment>open (or re-open) the database file at this path in the GUI session the open demo database&apos;s content was replaced (reset, snapshot restored) reset and snapshots copy the demo database&apos;s file: not for a demo on a server the actions in the File menu, in order</extracomment>
        <translation>Neue Demodatenbank</translation>
    </message>
    <message>
        <source>Billing Desktop databases (*.sqlite3)</source>
        <translation>Billing-Desktop-Datenbanken (*.sqlite3)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
    <message>
        <source>“{file}” already exists. Replace it with a new demo database?</source>
        <translation>„{file}“ ist bereits vorhanden. Möchten Sie die Datei durch eine neue Demodatenbank ersetzen?</translation>
    </message>
    <message>
        <source>If it is a demo database, everything done in it is replaced by the curated demo accounts. Any other file is left untouched.</source>
        <translation>Handelt es sich um eine Demodatenbank, wird alles, was darin getan wurde, durch die vorbereiteten Demokonten ersetzt. Jede andere Datei bleibt unverändert.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Ersetzen</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>Die Demodatenbank wird angelegt…</translation>
    </message>
    <message>
        <source>Everything done in it is lost: orders, cancellations, licence and payment changes, emails and operators added.</source>
        <translation>Alles, was darin getan wurde, geht verloren: Bestellungen, Kündigungen, Lizenz- und Zahlungsänderungen, E-Mails und hinzugefügte Bearbeiter.</translation>
    </message>
    <message>
        <source>The simulated date goes back from {today} to {start}.</source>
        <translation>Das simulierte Datum wird vom {today} auf den {start} zurückgesetzt.</translation>
    </message>
    <message>
        <source>The simulated date stays at {start}.</source>
        <translation>Das simulierte Datum bleibt der {start}.</translation>
    </message>
    <message>
        <source>Snapshots are kept.</source>
        <translation>Snapshots bleiben erhalten.</translation>
    </message>
    <message>
        <source>Reset Demo Database</source>
        <translation>Demodatenbank zurücksetzen</translation>
    </message>
    <message>
        <source>Reset the demo database “{database}” to the curated demo accounts?</source>
        <translation>Die Demodatenbank „{database}“ auf die vorbereiteten Demokonten zurücksetzen?</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>&amp;Zurücksetzen</translation>
    </message>
    <message>
        <source>Resetting the demo database…</source>
        <translation>Die Demodatenbank wird zurückgesetzt…</translation>
    </message>
    <message>
        <source>&amp;New Demo Database…</source>
        <translation>&amp;Neue Demodatenbank…</translation>
    </message>
    <message>
        <source>Create a fresh demo database with the curated sample accounts and open it</source>
        <translation>Eine neue Demodatenbank mit den vorbereiteten Beispielkonten anlegen und öffnen</translation>
    </message>
    <message>
        <source>&amp;Reset Demo Database…</source>
        <translation>Demodatenbank &amp;zurücksetzen…</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>Zurücksetzen…</translation>
    </message>
    <message>
        <source>Return the demo database to the curated accounts of its first day</source>
        <translation>Die Demodatenbank auf die vorbereiteten Konten ihres ersten Tages zurücksetzen</translation>
    </message>
    <message>
        <source>Sna&amp;pshots…</source>
        <translation>&amp;Snapshots…</translation>
    </message>
    <message>
        <source>Snapshots…</source>
        <translation>Snapshots…</translation>
    </message>
    <message>
        <source>Save the demo database&apos;s state under a name and return to it later</source>
        <translation>Den Stand der Demodatenbank unter einem Namen speichern und später dorthin zurückkehren</translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n Lizenz</numerusform>
            <numerusform>{product} {plan}, %n Lizenzen</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation>Nur über den Support kündbar.</translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation>Der Abrechnungskontakt könnte es auch online kündigen.</translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation>Add-on: {addon}</translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation>Endet mit dem Produkt.</translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation>Mit dieser Auswahl sind diese Bedingungen noch nicht erfüllt: {conditions}. Gehen Sie zurück, um sie zu erfüllen, oder ändern Sie die Auswahl.</translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation>Was gekündigt wird</translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation>Schritt 4 von 6: die Produkte und Add-ons, die der Anrufer kündigen möchte.</translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation>Kreuzen Sie jedes zu kündigende Produkt oder Add-on an. Die Add-ons eines Produkts enden mit ihm; ein Add-on kann auch einzeln gekündigt werden.</translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation>Geben Sie den Firmennamen ein.</translation>
    </message>
    <message>
        <source>Choose the account type.</source>
        <translation>Wählen Sie den Kontotyp aus.</translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation>Geben Sie die Straße und Hausnummer ein.</translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation>Geben Sie die Postleitzahl ein.</translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation>Geben Sie den Ort ein.</translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation>Wählen Sie das Land aus.</translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation>Wählen Sie die Sprache aus.</translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation>Wählen Sie die Währung aus.</translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation>Dieses Feld ist länger als {max} Zeichen.</translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation>{value} ist kein Kontotyp.</translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation>Dokumente können nicht in der Sprache {language} erstellt werden.</translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation>Die Währung von Konto {account} kann nicht geändert werden: Es gibt bereits Rechnungen oder Guthaben in {currency}.</translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation>Der Katalog enthält keine Preise in {currency}.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation>Corporate-Konten zahlen per Rechnung: Deaktivieren Sie die automatische Zahlung für Konto {account} (Zahlungsmethoden), bevor Sie es in ein Corporate-Konto umwandeln.</translation>
    </message>
    <message>
        <source>The account</source>
        <translation>Das Konto</translation>
    </message>
    <message>
        <source>Account</source>
        <extracomment>Entries per page unless the caller asks for another size. The most one call returns, whatever ``limit`` says. the field did not exist before (a creation) / does not exist after (a removal) the product of the subscription the entry is about, if any the account&apos;s currency, for fields holding minor units (``…_minor``) fields whose value changed, in the order they were recorded
----------
``session.info`` key: the id of the account the use case loaded first ``session.info`` key: rows whose version must move on with the transaction&apos;s writes :func:`last_change` key for the operators&apos; own changes (audited without an account)
----------
Subscription statuses that are &quot;bought&quot; and can be changed through checkout. ids of the stored items making up this line (to remove the line) pass back as ``expected_cart_version``; ``None`` while the account has no cart the stored row this change is (None: not stored yet) set: the add-on was cancelled and ends on this date (see cancellation) licences assigned to contacts in the order of ``Subscription.addons`` (by add-on) by id, as ``Account.contacts`` and ``Account.payment_methods`` by position (ORM attributes: a session executing it flushes pending changes first) every subscription of the account with its product, plan, assigned licences and add-ons (one row per add-on)</extracomment>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Only support staff can do this.</source>
        <extracomment>reset a demo database, save, restore and delete its snapshots (services.sandbox) Read-only actions every active role may perform. Actions that change one account; the account rules of SPEC §6 apply. Support-only powers behind the self-service flows (SPEC §3): not for representatives, who work on their own portfolio through the normal flows.</extracomment>
        <translation>Nur Supportmitarbeiter können dies tun.</translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation>Ihre Rolle ({role}) erlaubt diese Aktion nicht.</translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation>Die Uhr kann nur in einer Demodatenbank vorgestellt werden.</translation>
    </message>
    <message>
        <source>Only a demo database can be reset or returned to a snapshot; this database was left unchanged.</source>
        <translation>Nur eine Demodatenbank kann zurückgesetzt oder aus einem Snapshot wiederhergestellt werden; diese Datenbank wurde nicht verändert.</translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the range</extracomment>
        <translation>Abonnement</translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation>Konto {account} hat keinen Abrechnungskontakt.</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Kontakt</translation>
    </message>
    <message>
        <source>The subscription</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation>Das Abonnement</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``) &quot;To move to a lower plan, contact Customer Care&quot; when the product has a lower tier that cannot be chosen online and the contact may otherwise edit the plan whom the view is shown as (the billing contact unless another was asked for) every contact of the account, the billing contact first the message above the cards when this contact cannot make changes at all (representative, billing admin, overdue invoice, expired account); ``None`` otherwise the live products (cancelled ones are under ``discover``), in catalog order what the open invoices still ask for (the Billing Center&apos;s *Pay balance*) The role of the rules context: one that no operator-role limit refuses, so the Subscriptions tab&apos;s card function reports only what the account&apos;s state decides.</extracomment>
        <translation>{product} kann nicht online gekündigt werden. Wenden Sie sich für die Kündigung bitte an den Support.</translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation>Für {product} gibt es keine ausstehende Kündigung, die rückgängig gemacht werden kann.</translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation>{product} ist am {effective_end} abgelaufen und kann nicht mehr reaktiviert werden. Schließen Sie stattdessen ein neues Abonnement ab.</translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation>Die verbleibenden Monate von {product} wurden mit der Rechnung für vorzeitige Kündigung {invoice} berechnet; eine Reaktivierung ist erst möglich, nachdem der Support diese Rechnung storniert hat.</translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation>Die Kündigung kann erst erfolgen, wenn diese Bedingungen erfüllt sind: {conditions}.</translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation>{product} ist bereits gekündigt; es endet am {effective_end}.</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation>{product} kann nicht gekündigt werden: Es ist nicht mehr aktiv.</translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation>Wählen Sie einen Grund für die Kündigung aus.</translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation>{reason} ist keiner der Kündigungsgründe.</translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation>Beschreiben Sie den Grund für die Kündigung.</translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation>Der Grund darf höchstens {maximum} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation>{product} hat keinen laufenden Abrechnungszeitraum.</translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation>Der Vertrag wurde nicht mindestens 30 Tage vor seinem Ende ({term_end}) gekündigt und verlängert sich daher um eine weitere Laufzeit: Er bleibt bis zum {effective_end} aktiv und wird bis dahin berechnet.</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Add-on</translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation>Wählen Sie mindestens ein Produkt oder Add-on zur Kündigung aus.</translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation>{addon} wurde bereits gekündigt.</translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation>{addon} kann während einer Testphase nicht einzeln gekündigt werden.</translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation>Die Angaben des Anrufers stimmten nicht überein ({items}); verifizieren Sie den Anrufer erneut.</translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation>Der Anrufer wurde noch nicht verifiziert.</translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation>Die Verifizierung gilt nicht für dieses Konto oder ist abgelaufen; verifizieren Sie den Anrufer erneut.</translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation>Der Anrufer wurde um {at} verifiziert.</translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation>Wählen Sie den Kontakt aus, der die Kündigung beantragt.</translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation>{contact} darf diese Kündigung beantragen.</translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation>Das Konto hat einen offenen Saldo von {amount}; er muss vor der Kündigung beglichen werden.</translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation>Auf dem Konto ist nichts offen.</translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation>Besprechen Sie mit dem Anrufer Vertragsart, Enddatum und Kündigungsbedingungen jedes Produkts.</translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation>{count} Lizenzen sind noch Benutzern zugewiesen ({products}); heben Sie die Zuweisungen zuerst auf.</translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation>Keine Lizenzen sind Benutzern zugewiesen.</translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation>Der Anrufer hat bestätigt, dass die Daten gesichert sind.</translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation>Bestätigen Sie, dass die Daten des Kunden gesichert wurden; bieten Sie einen Export der Kontodaten an.</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>Konto-ID</translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation>E-Mail des Abrechnungsadministrators</translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation>Letzte vier Ziffern der Zahlungsmethode</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Rechnungsadresse</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Postleitzahl</translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation>Anrufer verifiziert</translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation>Antragsteller darf kündigen</translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation>Kein offener Saldo</translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation>Vertragsbedingungen besprochen</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Lizenzzuweisungen aufgehoben</translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation>Daten gesichert</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Anrufer verifizieren</translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation>Anderen Kontakt auswählen</translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation>Zahlung erfassen</translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation>Lizenzzuweisungen aufheben</translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation>Kontodaten exportieren</translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled) added by the order: new ones, or cancelled ones again cancelled add-ons added again that are paid for the current period: credited for its unused days like the running ones (the new period bills them again); one not added again simply runs out at its ``ends_on``, neither credited nor billed</extracomment>
        <translation>{frequency} ist kein Abrechnungsintervall.</translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation>{product} hat keinen Tarif {plan}.</translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation>{product} hat kein Add-on {addon}.</translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation>Die Anzahl der Lizenzen muss eine ganze Zahl sein.</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation>{kind} ist keine Art von Warenkorbposition.</translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation>Das Abonnement ist kein Tarif von {product}.</translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation>{product} ist beendet. Schließen Sie erneut ein Abonnement ab, um es zu nutzen.</translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation>{product} wird gerade gekündigt. Reaktivieren Sie es, bevor Sie den Tarif ändern.</translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation>{product} ist bereits abonniert. Bearbeiten Sie das Abonnement, um es zu ändern.</translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation>{product} enthält {addon} bereits.</translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation>Wählen Sie den neuen Wert für {product}.</translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation>Dies ändert das Abonnement nicht.</translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation>Wenden Sie sich an Ihren Kundenbetreuer {name}, um Produkt- oder Lizenzänderungen vorzunehmen</translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation>Konto {account} ist geschlossen.</translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation>{product} {plan} kann nicht in {currency} gekauft werden.</translation>
    </message>
    <message>
        <source>The cart</source>
        <translation>Der Warenkorb</translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation>Warenkorbposition</translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited the version of the subscription as priced (``None``: a new subscription); see :attr:`OrderPreview.subscription_versions` version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to charge exactly the method shown, even if the default changed since corporate: invoiced on payment terms instead of charged the account data the figures were computed with: pass it to ``place_order(expected_account_terms=...)`` so that the order is refused (:class:`ConflictError`) if one of them changed since this preview licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them ``next_period`` (a pure function of its arguments; its periods are immutable)</extracomment>
        <translation>Geben Sie eine Karte oder ein Bankkonto ein: Es ist keine gültige Zahlungsmethode hinterlegt.</translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation>Bestätigen Sie die Zahlungsmethode für das neue Abonnement.</translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation>Bestätigen Sie die Zahlungsmethode: Der neue Tarif ist teurer.</translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation>Fügen Sie die USt-IdNr. hinzu, falls das Unternehmen eine hat; ohne sie wird USt. von {rate} % ({country}) berechnet.</translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation>Die kostenlose Testphase von {product} endet heute statt am {trial_end}: Das kostenpflichtige Abonnement beginnt jetzt.</translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation>{product} bleibt bis zum {term_end} in seinem Vertrag mit fester Laufzeit.</translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation>Weisen Sie nach der Bestellung die neuen Lizenzen für {product} Benutzern zu.</translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation>{amount} wird dem Kontoguthaben gutgeschrieben und mit späteren Rechnungen verrechnet.</translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation>Die Bestellung wird in Rechnung gestellt, zahlbar innerhalb von {days} Tagen.</translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation>Die Bestellnummer {po} des Kunden ist am {expiry} abgelaufen.</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation>Der Warenkorb ist leer: Es gibt nichts zu bestellen.</translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>the SET clause comes from the values given (always the same columns) moves the version of a subscription the order checked but did not otherwise update checks (and locks) an account row the order does not otherwise change at its version</extracomment>
        <translation>Das Bestell-Token muss 1 bis {max} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)</extracomment>
        <translation>Zahlungsmethode</translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation>{method} kann nicht belastet werden: Wählen Sie eine andere Zahlungsmethode.</translation>
    </message>
    <message>
        <source>The order</source>
        <translation>Die Bestellung</translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation>Dieses Bestell-Token wurde bereits für eine andere Bestellung verwendet.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation>Corporate-Konten zahlen per Rechnung gemäß ihren Zahlungsbedingungen, nicht per Karte.</translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation>Die Uhr kann nur vorgestellt werden: {date} liegt vor dem aktuellen Datum {today}.</translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation>Rechnung</translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation>{what} {key} wurde nicht gefunden; möglicherweise wurde der Eintrag gelöscht.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} at {changed_at} — reload to see the current data. Your input is kept.</source>
        <translation>{what} wurde am {changed_at} von {changed_by} geändert — laden Sie neu, um die aktuellen Daten zu sehen. Ihre Eingaben bleiben erhalten.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} in the meantime — reload to see the current data. Your input is kept.</source>
        <translation>{what} wurde zwischenzeitlich von {changed_by} geändert — laden Sie neu, um die aktuellen Daten zu sehen. Ihre Eingaben bleiben erhalten.</translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation>{what} wurde zwischenzeitlich von jemand anderem geändert; laden Sie neu, um die aktuellen Daten zu sehen. Ihre Eingaben bleiben erhalten.</translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation>Der Export konnte nicht nach {path} geschrieben werden: {reason}</translation>
    </message>
    <message>
        <source>The invoice</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Die Rechnung</translation>
    </message>
    <message>
        <source>The invoice recipients</source>
        <translation>Die Liste der Rechnungsempfänger</translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation>Bitte ausfüllen: {what}.</translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation>{what}: höchstens {max} Zeichen erlaubt.</translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation>{status} ist kein Rechnungsstatus.</translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation>Beanstandungsvermerk</translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation>Rechnung {invoice} ist storniert und kann nicht beanstandet werden.</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>Grund</translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation>Nur offene Rechnungen können storniert werden; der Status von {invoice} ist „{status}“.</translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation>Für Rechnung {invoice} sind Zahlungen erfasst; sie kann nicht storniert werden.</translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation>{email} ist keine gültige E-Mail-Adresse.</translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation>Rechnungen können außer an den Abrechnungskontakt an höchstens {max} Adressen gehen; angegeben wurden {count}.</translation>
    </message>
    <message>
        <source>The licence assignments</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Die Lizenzzuweisung</translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). the subscription&apos;s version, for ``expected_version`` of assign/unassign contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op) the subscription&apos;s version after the call (for the next ``expected_version``)</extracomment>
        <translation>{value} ist keine Kontakt-ID.</translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation>{contact} ist ein Kontakt eines anderen Kontos und kann keine Lizenz von Konto {account} erhalten.</translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation>Lizenzen für {product} können nicht zugewiesen werden: Der Status des Abonnements ist „{status}“.</translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation>Nur {free} der {licences} Lizenzen für {product} sind frei; {requested} Kontakte sollten zugewiesen werden. Kaufen Sie weitere Lizenzen oder heben Sie zuerst einige Zuweisungen auf.</translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>The roles an operator can have, most powerful first (SPEC §6). At most this many corporate accounts per list (the search narrows it down). has a password, so can sign in to a shared database sign-in refused until then after repeated failures (None: not locked) corporate accounts assigned to this operator as representative
----------
``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation>Bearbeiter</translation>
    </message>
    <message>
        <source>You are no longer an active administrator of this database; sign in again to continue.</source>
        <translation>Sie sind kein aktiver Administrator dieser Datenbank mehr; melden Sie sich erneut an, um fortzufahren.</translation>
    </message>
    <message>
        <source>{name} is the last active administrator. Make another operator an administrator first.</source>
        <translation>{name} ist der letzte aktive Administrator. Machen Sie zuerst einen anderen Bearbeiter zum Administrator.</translation>
    </message>
    <message>
        <source>{role} is not an operator role.</source>
        <translation>{role} ist keine Bearbeiterrolle.</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Sie können sich nicht selbst deaktivieren; ein anderer Administrator kann das tun.</translation>
    </message>
    <message>
        <source>Only corporate accounts have a representative; {account} is a standard account.</source>
        <translation>Nur Corporate-Konten haben einen Kundenbetreuer; {account} ist ein Standardkonto.</translation>
    </message>
    <message>
        <source>{name} is not a representative. Only operators with the role Representative can be assigned corporate accounts.</source>
        <translation>{name} ist kein Kundenbetreuer. Nur Bearbeitern mit der Rolle Kundenbetreuer können Corporate-Konten zugewiesen werden.</translation>
    </message>
    <message>
        <source>{name} is disabled and cannot be assigned accounts.</source>
        <translation>{name} ist deaktiviert, daher können keine Konten zugewiesen werden.</translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation>Geben Sie Ihren Namen ein.</translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation>Der Name darf höchstens {max} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation>Ihre Bearbeiteridentität</translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation>Ein anderer Bearbeiter verwendet bereits die E-Mail-Adresse {email}.</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>The payment methods</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Die Liste der Zahlungsmethoden</translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation>Geben Sie den Namen des Kontoinhabers ein.</translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation>Der Name des Inhabers ist länger als {max} Zeichen.</translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation>Die Karte {method} ist im {month:02d}/{year} abgelaufen; fügen Sie eine neue Karte hinzu.</translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation>{country} ist kein zweistelliger Ländercode (z. B. DE, AT).</translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation>Ein Adressfeld ist länger als {max} Zeichen.</translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation>{method} ist die einzige Zahlungsmethode von Konto {account}, das seine Abonnements automatisch bezahlt. Fügen Sie zuerst eine weitere Zahlungsmethode hinzu oder deaktivieren Sie die automatische Zahlung.</translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation>Corporate-Konto {account} zahlt per Rechnung gemäß seinen Zahlungsbedingungen; die automatische Zahlung kann nicht aktiviert werden.</translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation>Fügen Sie Konto {account} eine Karte oder ein Bankkonto hinzu, bevor Sie die automatische Zahlung aktivieren.</translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation>Die Zahlungsreferenz ist länger als {max} Zeichen.</translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation>Konto {account} hat nichts zu bezahlen.</translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation>Konto {account} wird in {currency} abgerechnet; eine Zahlung in {other} kann nicht erfasst werden.</translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation>Eine Zahlung muss größer als null sein.</translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the subscription, or None for an overdue event (which concerns the account) the renewal invoice issued (renewals), and its status (``paid`` or ``open``) that invoice&apos;s total the email queued for it (trial ending, trial ended, renewal invoice) renewals: the end of the period (or term) now running; None when none follows overdue events: how many open invoices fell overdue the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None every event processed, in processing order (only with ``advance(details=True)``) ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) the event it is the outcome of (set by ``_Engine._apply``) the email each kind of event queues (when its outcome counts one) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation>Verlängerungen können in einer echten Datenbank nur bis heute ({today}) ausgeführt werden, nicht bis zum {date}.</translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation>{product} ist nicht in {currency} erhältlich.</translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused), if any: translatable why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text`` when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation>Die Verbindungssicherheit muss „Keine“, STARTTLS oder SSL/TLS sein.</translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation>{host} ist kein gültiger Servername.</translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>Der Port muss eine Zahl von 1 bis 65535 sein.</translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation>Die Absenderadresse {address} ist keine gültige E-Mail-Adresse.</translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation>Ein Passwort erfordert einen Benutzernamen.</translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation>Das Zeitlimit muss zwischen 1 und 600 Sekunden liegen.</translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <translation>Der Server {server} hat den Benutzernamen oder das Passwort abgelehnt ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation>Der Server hat den Empfänger {address} abgelehnt ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation>Der Server hat die Absenderadresse {address} abgelehnt ({reply}).</translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation>Der Server {server} unterstützt die gewählte Verbindungssicherheit oder Anmeldung nicht ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation>Der Server {server} hat die Verbindung geschlossen ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation>Der Server {server} antwortete: {reply}.</translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation>Die sichere Verbindung zu {server} ist fehlgeschlagen ({detail}).</translation>
    </message>
    <message>
        <source>The email has no recipient address.</source>
        <translation>Die E-Mail hat keine Empfängeradresse.</translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation>Der Server {server} hat nicht innerhalb von {seconds} Sekunden geantwortet.</translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation>Der Servername {host} wurde nicht gefunden ({detail}).</translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation>Unter {server} antwortet nichts. Prüfen Sie, ob der Mailserver läuft und ob Servername und Port korrekt sind.</translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation>Keine Verbindung zu {server} möglich ({detail}).</translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation>Senden fehlgeschlagen ({detail}).</translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation>Geben Sie zuerst den Namen des Mailservers ein.</translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation>{address} ist keine gültige E-Mail-Adresse für die Test-E-Mail.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation>Die kostenlose Testphase von {product} ist beendet. Klicken Sie auf „Jetzt abonnieren“, um einen Tarif zu kaufen.</translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation>„Jetzt abonnieren“ wird angeboten, wenn eine kostenlose Testphase beendet ist; {product} ist keine beendete Testphase.</translation>
    </message>
    <message>
        <source>{database} is not a demo database. Resets, snapshots and new demo data are only for demo databases; it was left unchanged.</source>
        <extracomment>seconds a reset or restore waits for another connection&apos;s write to finish</extracomment>
        <translation>{database} ist keine Demodatenbank. Zurücksetzen, Snapshots und neue Demodaten gibt es nur für Demodatenbanken; sie wurde nicht verändert.</translation>
    </message>
    <message>
        <source>The demo database {database} is busy with another change. Wait until it has finished and try again; nothing was replaced.</source>
        <translation>Die Demodatenbank {database} wird gerade anderweitig geändert. Warten Sie, bis der Vorgang abgeschlossen ist, und versuchen Sie es erneut; es wurde nichts ersetzt.</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists.</source>
        <translation>Ein Snapshot mit dem Namen „{name}“ ist bereits vorhanden.</translation>
    </message>
    <message>
        <source>Demo databases and snapshots need a database file; {database} is on a server.</source>
        <translation>Demodatenbanken und Snapshots benötigen eine Datenbankdatei; {database} liegt auf einem Server.</translation>
    </message>
    <message>
        <source>The snapshot “{name}” cannot be restored: its file is missing, damaged or from another version of Billing Desktop. The demo database was left unchanged.</source>
        <translation>Der Snapshot „{name}“ kann nicht wiederhergestellt werden: Seine Datei fehlt, ist beschädigt oder stammt aus einer anderen Version von Billing Desktop. Die Demodatenbank wurde nicht verändert.</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <extracomment>the &quot;what&quot; of NotFound for a snapshot, translated by the UI</extracomment>
        <translation>Snapshot</translation>
    </message>
    <message>
        <source>Give the snapshot a name.</source>
        <extracomment>the file&apos;s name inside :func:`snapshot_folder` when it was saved (the computer&apos;s clock) the demo&apos;s simulated date at that moment</extracomment>
        <translation>Geben Sie dem Snapshot einen Namen.</translation>
    </message>
    <message>
        <source>A snapshot name can have at most {max} characters.</source>
        <translation>Ein Snapshot-Name darf höchstens {max} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>This is a real database: it has no simulated time, so its clock cannot be moved. Open a demo database to move the clock.</source>
        <extracomment>how far one move may take the clock: a date years away would run every renewal of every year on the way (and dates near 9999 cannot be computed at all) the events &quot;to next event&quot; stops at (issue 7: renewal, trial end, cancellation end, term end); notices, overdue invoices and data retention happen on the way</extracomment>
        <translation>Dies ist eine echte Datenbank: Sie hat keine simulierte Zeit, daher kann ihre Uhr nicht vorgestellt werden. Öffnen Sie eine Demodatenbank, um die Uhr vorzustellen.</translation>
    </message>
    <message>
        <source>The clock only moves forward: choose a date after {today}, not {date}.</source>
        <extracomment>what each engine event appears as (a renewal also as an invoice and an email) invoiced (and renewed): the invoice, its status (``paid``/``open``) and total renewed / term renewed: the end of the new period or term (None: the last one) emailed: the email&apos;s kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``), its recipient and row id overdue: how many of the account&apos;s invoices fell overdue that day the date before the move … … the date asked for … … and the date now (the one asked for, unless the run was cancelled midway) the trainer cancelled: what was done until then is kept, the clock stopped at ``clock`` events that failed (left out, retried by the next move) the engine&apos;s own summary (counts) the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order renewals: the total of the invoice it will issue (as things stand now)</extracomment>
        <translation>Die Uhr kann nur vorgestellt werden: Wählen Sie ein Datum nach dem {today}, nicht den {date}.</translation>
    </message>
    <message>
        <source>The clock moves at most {years} years at a time: choose a date until {latest}, not {date}.</source>
        <translation>Die Uhr kann höchstens {years} Jahre auf einmal vorgestellt werden: Wählen Sie ein Datum bis zum {latest}, nicht den {date}.</translation>
    </message>
    <message>
        <source>The email address or the password is not correct.</source>
        <extracomment>Seconds every refused attempt waits before it answers. Consecutive wrong passwords that lock the operator. The first lock; each further wrong password doubles it … … up to this. Long passphrases are welcome; this only keeps a pasted file out. OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations. ``app_settings`` key written with the first administrator: a second concurrent :func:`create_first_admin` fails on its primary key.</extracomment>
        <translation>Die E-Mail-Adresse oder das Passwort ist nicht korrekt.</translation>
    </message>
    <message>
        <source>This operator has been disabled. Ask an administrator to enable it again.</source>
        <translation>Dieser Bearbeiter wurde deaktiviert. Bitten Sie einen Administrator, ihn wieder zu aktivieren.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins. Try again in {minutes} min.</source>
        <translation>Zu viele fehlgeschlagene Anmeldeversuche. Versuchen Sie es in {minutes} Min. erneut.</translation>
    </message>
    <message>
        <source>This database already has an administrator. Sign in with your email address and password, or ask an administrator to create your operator.</source>
        <translation>Diese Datenbank hat bereits einen Administrator. Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an oder bitten Sie einen Administrator, Sie als Bearbeiter anzulegen.</translation>
    </message>
    <message>
        <source>The password must have at least {min} characters.</source>
        <extracomment>Passwords long enough but guessed first by anyone (folded, without spaces).</extracomment>
        <translation>Das Passwort muss mindestens {min} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>The password may have at most {max} characters.</source>
        <translation>Das Passwort darf höchstens {max} Zeichen lang sein.</translation>
    </message>
    <message>
        <source>The password must not be the email address.</source>
        <translation>Das Passwort darf nicht die E-Mail-Adresse sein.</translation>
    </message>
    <message>
        <source>The password must not be the operator&apos;s name.</source>
        <translation>Das Passwort darf nicht der Name des Bearbeiters sein.</translation>
    </message>
    <message>
        <source>This password is too easy to guess. A few unrelated words make a good password.</source>
        <translation>Dieses Passwort ist zu leicht zu erraten. Einige voneinander unabhängige Wörter ergeben ein gutes Passwort.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>&amp;System</source>
        <translation>&amp;System</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>&amp;Hell</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>&amp;Dunkel</translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation>Das Erscheinungsbild und die Farben Ihres Desktops.</translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation>Dunkler Text auf hellem Hintergrund.</translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation>Heller Text auf dunklem Hintergrund, angenehmer am Abend.</translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation>Keine (Klartext)</translation>
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
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Einstellungsseiten</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Creating the administrator…</source>
        <extracomment>QSettings key: the email of the last operator who signed in on this computer the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts the machine&apos;s time (whole seconds, as the services&apos; system clock) the signed-in operator once the dialog accepted</extracomment>
        <translation>Der Administrator wird angelegt…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Anmeldung läuft…</translation>
    </message>
    <message>
        <source>Enter your name, email address and a password.</source>
        <translation>Geben Sie Ihren Namen, Ihre E-Mail-Adresse und ein Passwort ein.</translation>
    </message>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <translation>Die beiden Passwörter stimmen nicht überein; geben Sie es erneut ein.</translation>
    </message>
    <message>
        <source>Enter your email address and password.</source>
        <translation>Geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.</translation>
    </message>
    <message>
        <source>The database server did not answer. Check the network connection and try again.</source>
        <translation>Der Datenbankserver hat nicht geantwortet. Prüfen Sie die Netzwerkverbindung und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>Sign In — Billing Desktop</source>
        <translation>Anmelden — Billing Desktop</translation>
    </message>
    <message>
        <source>Set up the first administrator</source>
        <translation>Ersten Administrator einrichten</translation>
    </message>
    <message>
        <source>Nobody can sign in to this shared database yet. Create the first administrator: you sign in with this email address and password, and can then add the other operators.</source>
        <translation>Bei dieser gemeinsam genutzten Datenbank kann sich noch niemand anmelden. Legen Sie den ersten Administrator an: Sie melden sich mit dieser E-Mail-Adresse und diesem Passwort an und können dann die weiteren Bearbeiter hinzufügen.</translation>
    </message>
    <message>
        <source>Create &amp;Administrator</source>
        <translation>&amp;Administrator anlegen</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <source>This database is shared by a team. Sign in with your operator account.</source>
        <translation>Diese Datenbank wird von einem Team gemeinsam genutzt. Melden Sie sich mit Ihrem Bearbeiterkonto an.</translation>
    </message>
    <message>
        <source>&amp;Sign In</source>
        <translation>&amp;Anmelden</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Datenbank: {name}</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;E-Mail-Adresse:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Passwort:</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>Passwort &amp;wiederholen:</translation>
    </message>
    <message>
        <source>At least {count} characters, not your email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Mindestens {count} Zeichen, nicht Ihre E-Mail-Adresse. Einige voneinander unabhängige Wörter ergeben ein gutes Passwort, das man sich leicht merken kann.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
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
        <translation>Test-E-Mail von Billing Desktop</translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation>Dies ist eine Test-E-Mail von Billing Desktop.

Sie ist angekommen, die Einstellungen des Mailservers funktionieren also: E-Mails an Kunden werden über {server} gesendet.</translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation>Die Test-E-Mail wird gesendet…</translation>
    </message>
    <message>
        <source>Test email</source>
        <translation>Test-E-Mail</translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation>Eine Test-E-Mail wird an {address} gesendet…</translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation>Die Test-E-Mail wurde an {address} gesendet. Prüfen Sie, ob sie angekommen ist.</translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation>Der Test wurde abgebrochen.</translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation>Korrigieren Sie die obigen Einstellungen und senden Sie den Test erneut.</translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation>Mailserver (SMTP)</translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation>&amp;Server:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port:</translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation>Sic&amp;herheit:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>&amp;Benutzername:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Pass&amp;wort:</translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation>&amp;Absenderadresse:</translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation>&amp;Zeitlimit:</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation> s</translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation>Leer lassen, um E-Mails ungesendet im Postausgang zu behalten.</translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation>leer, wenn der Server keine Anmeldung erfordert</translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation>Ihre Rolle kann den Mailserver nicht ändern; wenden Sie sich an einen Administrator.</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Test</translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation>Senden a&amp;n:</translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation>&amp;Test-E-Mail senden</translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation>Eine E-Mail mit den obigen Einstellungen senden, ob gespeichert oder nicht</translation>
    </message>
</context>
<context>
    <name>SnapshotsDialog</name>
    <message>
        <source>Save Current State</source>
        <extracomment>a value to sort by (text, datetime or ISO date) a snapshot was restored into the open database (carries its ``SnapshotInfo``)</extracomment>
        <translation>Aktuellen Stand speichern</translation>
    </message>
    <message>
        <source>Name of the snapshot:</source>
        <translation>Name des Snapshots:</translation>
    </message>
    <message>
        <source>State on {date}</source>
        <translation>Stand vom {date}</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Speichern</translation>
    </message>
    <message>
        <source>Saved the snapshot “{name}”.</source>
        <translation>Der Snapshot „{name}“ wurde gespeichert.</translation>
    </message>
    <message>
        <source>Replace Snapshot</source>
        <translation>Snapshot ersetzen</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists. Replace it with the current state?</source>
        <translation>Ein Snapshot mit dem Namen „{name}“ ist bereits vorhanden. Möchten Sie ihn durch den aktuellen Stand ersetzen?</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Ersetzen</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot. The simulated date goes back to {date}.</source>
        <translation>Alles, was seit dem Speichern getan wurde, geht verloren, sofern es nicht in einem anderen Snapshot enthalten ist. Das simulierte Datum wird auf den {date} zurückgesetzt.</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot.</source>
        <translation>Alles, was seit dem Speichern getan wurde, geht verloren, sofern es nicht in einem anderen Snapshot enthalten ist.</translation>
    </message>
    <message>
        <source>Restore Snapshot</source>
        <translation>Snapshot wiederherstellen</translation>
    </message>
    <message>
        <source>Return the demo database to the snapshot “{name}”?</source>
        <translation>Die Demodatenbank aus dem Snapshot „{name}“ wiederherstellen?</translation>
    </message>
    <message>
        <source>&amp;Restore</source>
        <translation>&amp;Wiederherstellen</translation>
    </message>
    <message>
        <source>Delete Snapshot</source>
        <translation>Snapshot löschen</translation>
    </message>
    <message>
        <source>Delete the snapshot “{name}”?</source>
        <translation>Den Snapshot „{name}“ löschen?</translation>
    </message>
    <message>
        <source>The demo database itself does not change.</source>
        <translation>Die Demodatenbank selbst ändert sich nicht.</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Löschen</translation>
    </message>
    <message>
        <source>Deleted the snapshot “{name}”.</source>
        <translation>Der Snapshot „{name}“ wurde gelöscht.</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>Snapshots</translation>
    </message>
    <message>
        <source>A snapshot keeps the demo database as it is now, so you can return to it and repeat a scene.</source>
        <translation>Ein Snapshot hält den aktuellen Stand der Demodatenbank fest, sodass Sie dorthin zurückkehren und eine Szene wiederholen können.</translation>
    </message>
    <message>
        <source>No snapshots yet. Save the current state to come back to it later.</source>
        <translation>Noch keine Snapshots. Speichern Sie den aktuellen Stand, um später dorthin zurückzukehren.</translation>
    </message>
    <message>
        <source>&amp;Save Current State…</source>
        <translation>Aktuellen Stand &amp;speichern…</translation>
    </message>
    <message>
        <source>Only administrators and trainers can save and restore snapshots.</source>
        <translation>Nur Administratoren und Trainer können Snapshots speichern und wiederherstellen.</translation>
    </message>
</context>
<context>
    <name>SnapshotsModel</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Taken</source>
        <translation>Erstellt</translation>
    </message>
    <message>
        <source>Simulated date</source>
        <translation>Simuliertes Datum</translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation>Keine Rückerstattung: Bereits Berechnetes wird nicht erstattet, und die Produkte bleiben bis zu den oben genannten Daten nutzbar.</translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation>Die Testphase endet einfach am {date}; es wird nichts berechnet.</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>Bei Kündigung vor Vertragsende werden die verbleibenden Monate weiterhin berechnet: der laufende, bereits in Rechnung gestellte Zeitraum und %n weiterer Monat mit einer Rechnung für vorzeitige Kündigung. Der Vertrag bleibt bis zum ursprünglichen Enddatum, dem {date}, aktiv.</numerusform>
            <numerusform>Bei Kündigung vor Vertragsende werden die verbleibenden Monate weiterhin berechnet: der laufende, bereits in Rechnung gestellte Zeitraum und %n weitere Monate mit einer Rechnung für vorzeitige Kündigung. Der Vertrag bleibt bis zum ursprünglichen Enddatum, dem {date}, aktiv.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation>Bei Kündigung im Laufe des Jahres wird das ganze Jahr berechnet (es wurde zu Beginn in Rechnung gestellt), und das Abonnement bleibt bis zum {date} aktiv.</translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation>Bei Kündigung zur Monatsmitte wird der ganze Monat berechnet (er wurde zu Beginn in Rechnung gestellt), und das Abonnement bleibt bis zum Monatsende, dem {date}, aktiv.</translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n Monat</numerusform>
            <numerusform>%n Monate</numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation>Vertrag:</translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation>Laufender Zeitraum:</translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation>Laufender Zeitraum, bereits berechnet:</translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation>Verbleibende Monate, jetzt berechnet:</translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation>Noch berechnete Monate:</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Noch berechnet:</translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation>Aktiv bis:</translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation>Rückerstattung:</translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation>Daten gelöscht am:</translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation>Insgesamt noch berechnet:</translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation>Jetzt für die verbleibenden Monate berechnet (netto):</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Rechnung für vorzeitige Kündigung:</translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation>Keine: Es wird nichts mehr berechnet.</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (Reverse Charge)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>USt.:</translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation>Gesamtbetrag der Rechnung für vorzeitige Kündigung:</translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation>Verwendetes Kontoguthaben:</translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation>Jetzt fällig:</translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation>Was noch berechnet wird</translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation>Schritt 5 von 6: was der Kunde noch zahlt und bis wann das Produkt aktiv bleibt.</translation>
    </message>
    <message>
        <source>In total</source>
        <translation>Insgesamt</translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>&amp;Edit subscription</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow.</extracomment>
        <translation>Abonnement &amp;bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Cancel subscription</source>
        <translation>Abonnement &amp;kündigen</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Reaktivieren</translation>
    </message>
    <message>
        <source>&amp;Subscribe now</source>
        <translation>&amp;Jetzt abonnieren</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>Testphase</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Testphase beendet</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Aktiv</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Kündigung ausstehend</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Gekündigt</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Monatlich</translation>
    </message>
    <message>
        <source>Annually</source>
        <translation>Jährlich</translation>
    </message>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation>Läuft am {date} ab</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Optionen</translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation>Optionen für {product}</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Tarif</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Lizenzen</translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation>{assigned} von {total} zugewiesen</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Abrechnungsintervall</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>Vertrag</translation>
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
        <translation>Drücken Sie die Leertaste oder die Eingabetaste für die Optionen.</translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation>Feste Laufzeit von {months} Monaten, endet am {date}</translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation>Feste Laufzeit, endet am {date}</translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation>Monatlich kündbar</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Testphase endet am</translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation>Testphase endete am</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Beendet am</translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation>Nächstes Abrechnungsdatum</translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation>Keines: Es wird nicht verlängert</translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation>Die Kündigungsfrist endete am {deadline}: Der Vertrag verlängert sich am {end} um eine weitere Laufzeit.</translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation>Der Vertrag verlängert sich am {end}, sofern er nicht bis zum {deadline} gekündigt wird.</translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation>Dieses Konto hat noch keine Abonnements.</translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Warenkorb: %n Position</numerusform>
            <numerusform>Warenkorb: %n Positionen</numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Weitere Produkte entdecken</translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation>Produkte, die dieses Konto gekündigt oder nie gekauft hat.</translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation>&amp;Warenkorb prüfen</translation>
    </message>
</context>
<context>
    <name>ThemePage</name>
    <message>
        <source>Theme</source>
        <translation>Design</translation>
    </message>
</context>
<context>
    <name>UpcomingPanel</name>
    <message>
        <source>Renewal</source>
        <extracomment>rows listed (the next events, earliest first) what each engine event is called in the panel (``EventKind`` values)</extracomment>
        <translation>Verlängerung</translation>
    </message>
    <message>
        <source>Contract term ends and renews</source>
        <translation>Vertragslaufzeit endet und verlängert sich</translation>
    </message>
    <message>
        <source>Cancellation takes effect</source>
        <translation>Kündigung wird wirksam</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Testphase endet</translation>
    </message>
    <message>
        <source>“Trial ending” email</source>
        <translation>E-Mail „Testphase endet bald“</translation>
    </message>
    <message>
        <source>Invoice falls overdue</source>
        <translation>Rechnung wird überfällig</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Daten zur Löschung vorgemerkt</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Firma</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Produkt</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Betrag</translation>
    </message>
    <message>
        <source>Invoice {number} falls overdue</source>
        <translation>Rechnung {number} wird überfällig</translation>
    </message>
    <message>
        <source>The renewal invoice&apos;s total as the subscription stands today</source>
        <translation>Gesamtbetrag der Verlängerungsrechnung nach heutigem Stand des Abonnements</translation>
    </message>
    <message>
        <source>Nothing is due after {date}.</source>
        <extracomment>a row was activated: the account&apos;s id set once the panel has data (or tried); reloads are explicit after that</extracomment>
        <translation>Nach dem {date} ist nichts fällig.</translation>
    </message>
    <message>
        <source>What the next moves of the clock will do, after {date}:</source>
        <translation>Was beim Vorstellen der Uhr nach dem {date} geschieht:</translation>
    </message>
    <message>
        <source>Upcoming Events</source>
        <translation>Anstehende Ereignisse</translation>
    </message>
    <message>
        <source>&amp;Upcoming Events</source>
        <translation>Anstehende &amp;Ereignisse</translation>
    </message>
    <message>
        <source>Show what the next moves of the simulated clock will do</source>
        <translation>Anzeigen, was beim nächsten Vorstellen der simulierten Uhr geschieht</translation>
    </message>
    <message>
        <source>Upcoming events</source>
        <translation>Anstehende Ereignisse</translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the versions of the selected subscriptions, read just before the checklist page&apos;s checklist (what &quot;Unassign all&quot; sends: optimistic locking) the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation>{mark} Stimmt überein</translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation>{mark} {sentence}</translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation>{mark} Der Anrufer ist verifiziert ({time}). Fahren Sie mit „Weiter“ fort.</translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation>Der Anrufer konnte nicht verifiziert werden. Nicht übereinstimmend: {fields}.</translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>%n Verifizierungsversuch ist fehlgeschlagen. Dies wurde in der Aktivität des Kontos erfasst. Fahren Sie nicht fort: Bitten Sie den Abrechnungsadministrator um einen Rückruf.</numerusform>
            <numerusform>%n Verifizierungsversuche in Folge sind fehlgeschlagen. Dies wurde in der Aktivität des Kontos erfasst. Fahren Sie nicht fort: Bitten Sie den Abrechnungsadministrator um einen Rückruf.</numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation>Versuch {attempt} von {limit} fehlgeschlagen. Prüfen Sie die Angaben mit dem Anrufer.</translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation>Die Konto-ID stimmt nicht überein.</translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation>Dies ist nicht die E-Mail-Adresse eines Abrechnungsadministrators des Kontos.</translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation>Keine hinterlegte Karte und kein hinterlegtes Bankkonto endet auf diese Ziffern.</translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation>Die Rechnungsadresse stimmt nicht mit der der Zahlungsmethode überein.</translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation>Die Postleitzahl stimmt nicht mit der der Zahlungsmethode überein.</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Anrufer verifizieren</translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation>Schritt 1 von 6: Stellen Sie vor allem anderen sicher, dass der Anrufer ist, wer er vorgibt zu sein.</translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation>Fragen Sie den Anrufer nach diesen Angaben und geben Sie ein, was er sagt. Sie werden mit Konto {account} verglichen; erfasst wird nur, ob jede Angabe übereinstimmte, nie das Gesagte.</translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation>&amp;Konto-ID:</translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation>&amp;E-Mail des Abrechnungsadministrators:</translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation>&amp;Letzte vier Ziffern der Zahlungsmethode:</translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation>Rechnungs&amp;adresse (Straße und Hausnummer):</translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation>&amp;Postleitzahl der Rechnungsadresse:</translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation>z. B. A-100001</translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation>4 Ziffern</translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation>An&amp;rufer verifizieren</translation>
    </message>
</context>
<context>
    <name>Walkthroughs</name>
    <message>
        <source>{account} was not opened: the account shown has unsaved changes.</source>
        <extracomment>conditions that are states: they count when they already hold as the step becomes current the English source sentence (context &quot;Walkthroughs&quot;) with {placeholders} what &quot;Show me&quot; points at: an objectName path, alternatives separated by &quot;|&quot; (the first one on screen wins); ``{product}`` is the walkthrough&apos;s product the warning&apos;s English source (&quot;&quot; when the scene is ready) what the service said: the card&apos;s reason, or the error reading the cards</extracomment>
        <translation>{account} wurde nicht geöffnet: Das angezeigte Konto hat nicht gespeicherte Änderungen.</translation>
    </message>
    <message>
        <source>{account} no longer shows this scene. Reset the demo database to play it again.</source>
        <translation>{account} zeigt diese Szene nicht mehr. Setzen Sie die Demodatenbank zurück, um sie erneut durchzuspielen.</translation>
    </message>
    <message>
        <source>Open {company} ({account}) on its Subscriptions tab: one card per product, as on the Subscriptions page of the Billing Center.</source>
        <extracomment>the seed article (&quot;000&quot;); the curated account whose scenario starts with &quot;Article 000&quot; tells the story the catalog code of the product the story is about the card action the scene needs (&quot;cancel&quot;, &quot;edit&quot;, &quot;subscribe&quot;): when the account&apos;s card no longer offers it, Prepare says so the account page&apos;s tab Prepare opens</extracomment>
        <translation>Öffnen Sie {company} ({account}) auf der Registerkarte „Abonnements“: eine Karte pro Produkt, wie auf der Seite „Abonnements“ im Abrechnungscenter.</translation>
    </message>
    <message>
        <source>Click the options icon (⋮) in the top-right corner of the {product} card.</source>
        <translation>Klicken Sie auf das Optionssymbol (⋮) oben rechts auf der Karte von {product}.</translation>
    </message>
    <message>
        <source>Cancel a subscription online</source>
        <translation>Abonnement online kündigen</translation>
    </message>
    <message>
        <source>Help article 000: the billing contact of {company} ({account}) stops the automatic renewal of {product}.</source>
        <translation>Hilfeartikel 000: Der Abrechnungskontakt von {company} ({account}) beendet die automatische Verlängerung von {product}.</translation>
    </message>
    <message>
        <source>The card now says Cancellation pending. Until the plan expires, Reactivate in the options menu keeps it. A free trial without billing information needs none of this: it simply expires.</source>
        <translation>Die Karte zeigt jetzt „Kündigung ausstehend“. Bis der Tarif abläuft, lässt er sich mit „Reaktivieren“ im Optionsmenü behalten. Eine kostenlose Testversion ohne Zahlungsinformationen braucht nichts davon: Sie läuft einfach ab.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription.</source>
        <translation>Wählen Sie „Abonnement kündigen“.</translation>
    </message>
    <message>
        <source>Go through the confirmation with the customer: the plan stays active until the end of the paid period and is then not renewed. Choose who asks and why, then click Yes, cancel.</source>
        <translation>Gehen Sie die Bestätigung mit dem Kunden durch: Der Tarif bleibt bis zum Ende des bezahlten Zeitraums aktiv und wird danach nicht verlängert. Wählen Sie aus, wer die Kündigung anfordert und warum, und klicken Sie dann auf „Ja, kündigen“.</translation>
    </message>
    <message>
        <source>The result shows the expiry date and the confirmation email sent to the billing contact. Click Close.</source>
        <translation>Das Ergebnis zeigt das Ablaufdatum und die an den Abrechnungskontakt gesendete Bestätigungs-E-Mail. Klicken Sie auf „Schließen“.</translation>
    </message>
    <message>
        <source>Remove user licences</source>
        <translation>Benutzerlizenzen entfernen</translation>
    </message>
    <message>
        <source>Help article 001: {company} ({account}) pays for more {product} licences than it needs and removes some.</source>
        <translation>Hilfeartikel 001: {company} ({account}) bezahlt mehr Lizenzen für {product}, als benötigt werden, und entfernt einige davon.</translation>
    </message>
    <message>
        <source>The change took effect at once: the unused days of the removed licences became a credit on the account, and the billing date moved to today.</source>
        <translation>Die Änderung wurde sofort wirksam: Die nicht genutzten Tage der entfernten Lizenzen wurden dem Kontoguthaben gutgeschrieben, und das Abrechnungsdatum wurde auf heute verschoben.</translation>
    </message>
    <message>
        <source>Choose Edit subscription: the checkout opens on the current plan.</source>
        <translation>Wählen Sie „Abonnement bearbeiten“: Der Bestellvorgang öffnet sich mit dem aktuellen Tarif.</translation>
    </message>
    <message>
        <source>Lower the number of licences (not below those assigned to users) and click Add to cart.</source>
        <translation>Verringern Sie die Anzahl der Lizenzen (nicht unter die Zahl der Benutzern zugewiesenen Lizenzen) und klicken Sie auf „In den Warenkorb“.</translation>
    </message>
    <message>
        <source>The cart shows the change. Click Checkout.</source>
        <translation>Der Warenkorb zeigt die Änderung. Klicken Sie auf „Zur Kasse“.</translation>
    </message>
    <message>
        <source>On Complete transaction, check the billing period (it starts today), the licences, the plan price, the credit for the unused days and the total, then click Place order.</source>
        <translation>Prüfen Sie auf der Seite „Kasse“ den Abrechnungszeitraum (er beginnt heute), die Lizenzen, den Tarifpreis, die Gutschrift für die nicht genutzten Tage und den Gesamtbetrag, und klicken Sie dann auf „Bestellung aufgeben“.</translation>
    </message>
    <message>
        <source>The result shows the new billing date and the confirmation email. Click Close.</source>
        <translation>Das Ergebnis zeigt das neue Abrechnungsdatum und die Bestätigungs-E-Mail. Klicken Sie auf „Schließen“.</translation>
    </message>
    <message>
        <source>Cancel through support</source>
        <translation>Über den Support kündigen</translation>
    </message>
    <message>
        <source>Help article 002: {product} is cancelled only through support. A billing admin of {company} ({account}) calls to cancel it.</source>
        <translation>Hilfeartikel 002: {product} ist nur über den Support kündbar. Ein Abrechnungsadministrator von {company} ({account}) ruft an, um es zu kündigen.</translation>
    </message>
    <message>
        <source>The card says Cancellation pending: {product} stays active, and billed, until the agreement ends, and then moves to Discover other products.</source>
        <translation>Die Karte zeigt „Kündigung ausstehend“: {product} bleibt bis zum Vertragsende aktiv und wird bis dahin berechnet; danach erscheint es unter „Weitere Produkte entdecken“.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription: {product} cannot be cancelled online, so the assisted cancellation opens.</source>
        <translation>Wählen Sie „Abonnement kündigen“: {product} kann nicht online gekündigt werden, daher öffnet sich die Kündigung über den Support.</translation>
    </message>
    <message>
        <source>Verify the caller: enter the account ID, the billing admin&apos;s email, the last four digits of the payment card and its billing address as the caller gives them, click Verify, then Next.</source>
        <translation>Verifizieren Sie den Anrufer: Geben Sie die Konto-ID, die E-Mail-Adresse des Abrechnungsadministrators, die letzten vier Ziffern der Zahlungskarte und deren Rechnungsadresse so ein, wie der Anrufer sie nennt, und klicken Sie auf „Anrufer verifizieren“ und dann auf „Weiter“.</translation>
    </message>
    <message>
        <source>Choose who is asking: only a super admin or a billing admin may ask to cancel. Click Next.</source>
        <translation>Wählen Sie aus, wer anfragt: Nur ein Superadministrator oder ein Abrechnungsadministrator darf die Kündigung beantragen. Klicken Sie auf „Weiter“.</translation>
    </message>
    <message>
        <source>Before you cancel: pay the open balance, unassign the licences and export the account&apos;s data (or confirm that the caller has a backup) until every item is ticked, then click Next.</source>
        <translation>Vor der Kündigung: Begleichen Sie den offenen Saldo, heben Sie die Lizenzzuweisungen auf und exportieren Sie die Kontodaten (oder bestätigen Sie, dass der Anrufer eine Sicherung hat), bis jeder Punkt abgehakt ist, und klicken Sie dann auf „Weiter“.</translation>
    </message>
    <message>
        <source>Check what will be cancelled and click Next.</source>
        <translation>Prüfen Sie, was gekündigt wird, und klicken Sie auf „Weiter“.</translation>
    </message>
    <message>
        <source>Tell the caller what is still billed: the agreement stays active, and is billed, until its end date, without a refund. Click Next.</source>
        <translation>Teilen Sie dem Anrufer mit, was noch berechnet wird: Der Vertrag bleibt bis zu seinem Enddatum aktiv und wird bis dahin berechnet, ohne Rückerstattung. Klicken Sie auf „Weiter“.</translation>
    </message>
    <message>
        <source>Choose the reason and click Cancel subscriptions.</source>
        <translation>Wählen Sie den Grund aus und klicken Sie auf „Abonnements kündigen“.</translation>
    </message>
    <message>
        <source>The result lists what was cancelled, the invoice for the rest of the agreement and the confirmation email. Click Close.</source>
        <translation>Das Ergebnis zeigt, was gekündigt wurde, die Rechnung für die restliche Vertragslaufzeit und die Bestätigungs-E-Mail. Klicken Sie auf „Schließen“.</translation>
    </message>
    <message>
        <source>Subscribe when the free trial ends</source>
        <translation>Nach der kostenlosen Testphase abonnieren</translation>
    </message>
    <message>
        <source>Help article 003: the {product} trial of {company} ({account}) ended without a charge. The billing contact turns it into a paid plan.</source>
        <translation>Hilfeartikel 003: Die Testphase von {product} bei {company} ({account}) ist ohne Kosten abgelaufen. Der Abrechnungskontakt wandelt sie in einen kostenpflichtigen Tarif um.</translation>
    </message>
    <message>
        <source>The plan is active from today and the Users &amp; licences tab is open to assign the seats. A trial that nobody converts simply expires, without a charge.</source>
        <translation>Der Tarif ist ab heute aktiv, und die Registerkarte „Benutzer &amp; Lizenzen“ ist geöffnet, um die Lizenzen zuzuweisen. Eine Testphase, die niemand umwandelt, läuft einfach ohne Kosten ab.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended: its card says Trial ended and offers Subscribe now. Click Subscribe now.</source>
        <translation>Die kostenlose Testphase von {product} ist beendet: Die Karte zeigt „Testphase beendet“ und bietet „Jetzt abonnieren“ an. Klicken Sie auf „Jetzt abonnieren“.</translation>
    </message>
    <message>
        <source>Change the plan tier, the number of licences or the billing frequency if you like, then click Checkout.</source>
        <translation>Ändern Sie bei Bedarf die Tarifstufe, die Anzahl der Lizenzen oder das Abrechnungsintervall, und klicken Sie dann auf „Zur Kasse“.</translation>
    </message>
    <message>
        <source>Review the order on Complete transaction (Edit order goes back to change it) and click Checkout.</source>
        <translation>Prüfen Sie die Bestellung auf der Seite „Kasse“ („Bestellung bearbeiten“ führt zurück, um sie zu ändern) und klicken Sie auf „Zur Kasse“.</translation>
    </message>
    <message>
        <source>Enter the payment card and the account&apos;s VAT number, then click Place order.</source>
        <translation>Geben Sie die Zahlungskarte und die USt-IdNr. des Kontos ein und klicken Sie dann auf „Bestellung aufgeben“.</translation>
    </message>
    <message>
        <source>The result confirms the purchase. Click Assign licences now to give the new seats to users.</source>
        <translation>Das Ergebnis bestätigt den Kauf. Klicken Sie auf „Lizenzen jetzt zuweisen“, um die neuen Lizenzen Benutzern zuzuweisen.</translation>
    </message>
    <message>
        <source>Change the plan</source>
        <translation>Tarif ändern</translation>
    </message>
    <message>
        <source>Help article 004: {company} ({account}) upgrades {product} to a higher tier, more licences or another billing period.</source>
        <translation>Hilfeartikel 004: {company} ({account}) wechselt bei {product} zu einer höheren Tarifstufe, zu mehr Lizenzen oder zu einem anderen Abrechnungsintervall.</translation>
    </message>
    <message>
        <source>The new plan applies from today and the rest of the old period was prorated. A lower tier is not offered online: the wizard says to contact Customer Care.</source>
        <translation>Der neue Tarif gilt ab heute, und der Rest des alten Zeitraums wurde anteilig verrechnet. Eine niedrigere Tarifstufe wird online nicht angeboten: Der Assistent verweist an den Kundenservice.</translation>
    </message>
    <message>
        <source>Choose Edit subscription.</source>
        <translation>Wählen Sie „Abonnement bearbeiten“.</translation>
    </message>
    <message>
        <source>Choose a higher plan tier, more licences or another billing frequency, check the order summary at the bottom of the page and click Checkout.</source>
        <translation>Wählen Sie eine höhere Tarifstufe, mehr Lizenzen oder ein anderes Abrechnungsintervall, prüfen Sie die Bestellübersicht unten auf der Seite und klicken Sie auf „Zur Kasse“.</translation>
    </message>
    <message>
        <source>Check the billing period (it starts today), the licences, the prices and the total. Click Checkout, confirm the payment method if the new plan costs more, and click Place order.</source>
        <translation>Prüfen Sie den Abrechnungszeitraum (er beginnt heute), die Lizenzen, die Preise und den Gesamtbetrag. Klicken Sie auf „Zur Kasse“, bestätigen Sie die Zahlungsmethode, falls der neue Tarif teurer ist, und klicken Sie auf „Bestellung aufgeben“.</translation>
    </message>
    <message>
        <source>The result shows the new plan and billing date. Click Close.</source>
        <translation>Das Ergebnis zeigt den neuen Tarif und das neue Abrechnungsdatum. Klicken Sie auf „Schließen“.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation>Willkommen bei Billing Desktop</translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation>Billing Desktop verwaltet Kundenkonten mit ihren Abonnements, Lizenzen und Rechnungen. Diese Datenbank ist neu und enthält noch keine Konten: Erkunden Sie die Anwendung zuerst mit Beispielkunden, oder beginnen Sie sofort mit der Arbeit.</translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation>Datenbank: {path}</translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation>Demodatenbank öffnen</translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation>Beispielkonten in einer separaten Datei, mit einer simulierten Uhr, die Sie vorstellen können. Diese Datenbank bleibt leer.</translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation>Mit einer leeren Datenbank beginnen</translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation>Zur Kontenliste wechseln und in dieser Datenbank arbeiten.</translation>
    </message>
</context>
<context>
    <name>_ClockMenu</name>
    <message>
        <source>Simulated &amp;Clock</source>
        <translation>Simulierte &amp;Uhr</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Day</source>
        <translation>Um einen &amp;Tag vorstellen</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Month</source>
        <translation>Um einen &amp;Monat vorstellen</translation>
    </message>
    <message>
        <source>Move to the &amp;Next Event</source>
        <translation>Zum &amp;nächsten Ereignis vorstellen</translation>
    </message>
    <message>
        <source>Move to a D&amp;ate…</source>
        <translation>Auf ein &amp;Datum vorstellen…</translation>
    </message>
</context>
</TS>
