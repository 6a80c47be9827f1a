<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="it">
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation>Panoramica</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Sottoscrizioni</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Fatture</translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation>Utenti e licenze</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation>Metodi di pagamento</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Attività</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation>Modifiche non salvate</translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation>Le modifiche all&apos;account {account} non sono state salvate. Scartarle?</translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation>Saldo da pagare: {amount}</translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation>Nessun importo dovuto</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Credito dell&apos;account: {amount}</translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation>Account {account}, {company}</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation>Torna all&apos;elenco degli account (Alt+Freccia sinistra)</translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation>Torna all&apos;elenco degli account</translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation>Alt+{number}</translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation>Schede dell&apos;account</translation>
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
        <translation>Attivo</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Scaduto</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Chiuso</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Insoluto</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Paese</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Rappresentante</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Sottoscrizioni</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>Saldo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Subscriptions in trial, active or pending cancellation</source>
        <translation>Sottoscrizioni in prova, attive o con annullamento in sospeso</translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation>Importo dovuto sulle fatture aperte</translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation>Insoluto: una fattura aperta ha superato la data di scadenza</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation>Tutti i paesi</translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation>Esporta account</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>File CSV (*.csv)</translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation>Scrittura degli account in {file}…</translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n account esportato.</numerusform>
            <numerusform>%n account esportati.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln account</numerusform>
            <numerusform>%Ln account</numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation>Nessun account corrisponde al filtro.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Cancella tutti i filtri</translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation>Questo database non contiene ancora account.</translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation>Gli account compaiono qui non appena vengono creati o importati.</translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation>Esplora invece il database demo</translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation>Filtra per ID account o ragione sociale</translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation>Digiti parte della ragione sociale o l&apos;inizio di un ID account (Ctrl+F)</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Tutti i tipi</translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation>Mostra solo gli account di questo tipo</translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation>Mostra solo gli account di questo paese</translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation>Tutti i rappresentanti</translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation>I miei account</translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation>Mostra solo gli account di questo rappresentante</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>Esporta &amp;CSV…</translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation>Salva in un file CSV gli account del filtro attuale, nell&apos;ordine attuale</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>Solo insoluti</translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation>Mostra solo gli account con una fattura scaduta</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Account</translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Quando</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operatore</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Azione</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Richiesto da</translation>
    </message>
    <message>
        <source>System</source>
        <extracomment>A page could not be read (the account was deleted meanwhile, …).</extracomment>
        <translation>Sistema</translation>
    </message>
</context>
<context>
    <name>ActivityTab</name>
    <message>
        <source>Licences assigned</source>
        <extracomment>Translation context of the constant words below. What each audit action means, in words (the codes the services write).</extracomment>
        <translation>Licenze assegnate</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licenze revocate</translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation>Carrello modificato</translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation>Carrello svuotato</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Ordine effettuato</translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation>Prodotto sottoscritto</translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation>Sottoscrizione modificata</translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation>Passaggio a un piano inferiore</translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation>Sottoscrizione rinnovata</translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation>Nuovo periodo di fatturazione</translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation>Contratto rinnovato per un altro periodo</translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation>Sottoscrizione terminata</translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation>Prova scaduta</translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation>Sottoscrizione annullata online</translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation>Sottoscrizione annullata dall&apos;assistenza</translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation>Componente aggiuntivo annullato</translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation>Sottoscrizione riattivata</translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation>Verifica del chiamante</translation>
    </message>
    <message>
        <source>Caller verification failed repeatedly</source>
        <translation>Verifica del chiamante non riuscita più volte</translation>
    </message>
    <message>
        <source>Operator name changed</source>
        <translation>Nome dell&apos;operatore modificato</translation>
    </message>
    <message>
        <source>Accounts list exported</source>
        <translation>Elenco degli account esportato</translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation>Avviso di fine prova inviato</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Dati contrassegnati per l&apos;eliminazione</translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation>Pagamento automatico modificato</translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation>Partita IVA modificata</translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation>Dati dell&apos;account esportati</translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation>Destinatari delle fatture modificati</translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation>Dati dell&apos;account modificati</translation>
    </message>
    <message>
        <source>Representative changed</source>
        <translation>Rappresentante modificato</translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation>Metodo di pagamento aggiunto</translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation>Metodo di pagamento rimosso</translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation>Metodo di pagamento predefinito modificato</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Pagamento registrato</translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation>Fattura contestata</translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation>Fattura annullata</translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation>Contatti con licenza</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation>Rinnovo automatico</translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation>Annullamento richiesto il</translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation>Annullamento effettivo dal</translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation>Motivo dell&apos;annullamento</translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation>Motivazione indicata</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Attivo fino al</translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation>Mesi ancora fatturati</translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation>Importo ancora fatturato</translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation>Addebito aggiuntivo</translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation>Rinnovato</translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation>Dati eliminati il</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Piano</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenze</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frequenza di fatturazione</translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation>Acquistato tramite</translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation>Data di riferimento della fatturazione</translation>
    </message>
    <message>
        <source>Period start</source>
        <translation>Inizio del periodo</translation>
    </message>
    <message>
        <source>Period end</source>
        <translation>Fine del periodo</translation>
    </message>
    <message>
        <source>Term start</source>
        <translation>Inizio del contratto</translation>
    </message>
    <message>
        <source>Term end</source>
        <translation>Fine del contratto</translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation>Durata in mesi</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fine della prova</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Terminato il</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Componenti aggiuntivi</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Componente aggiuntivo</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Attivo</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Termina il</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Pagamento automatico</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Partita IVA</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Rappresentante</translation>
    </message>
    <message>
        <source>Account type</source>
        <translation>Tipo di account</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Indirizzo</translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation>Indirizzo (riga 2)</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>CAP</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Città</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Provincia</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Paese</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Lingua</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Valuta</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Circuito</translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation>Ultime quattro cifre</translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation>Mese di scadenza</translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation>Anno di scadenza</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titolare</translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation>Paese della banca</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Predefinito</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Metodo di pagamento predefinito</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Riepilogo</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Verificato</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>Saldo da pagare</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Credito dell&apos;account</translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation>Prova</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prova terminata</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annullamento in sospeso</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annullato</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Scaduto</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensile</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Annuale</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Sì</translation>
    </message>
    <message>
        <source>No</source>
        <translation>No</translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation>Selezioni una voce per vedere cosa è cambiato.</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Sistema</translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation>{when} – autore: {operator}</translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation>Prodotto: {product}</translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation>Richiesto da {contact}</translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation>Nessun valore modificato.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Campo</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Prima</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Dopo</translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation>Su questo account non è stato ancora modificato nulla.</translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation>Attività dell&apos;account</translation>
    </message>
    <message>
        <source>What changed</source>
        <translation>Modifiche</translation>
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
        <translation>“{location}” non è né un file di database né l&apos;indirizzo di un server.</translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Done</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation>Fatto</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Non ancora</translation>
    </message>
    <message>
        <source>Month to month, billed monthly</source>
        <translation>Senza vincolo di durata, fatturazione mensile</translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation>Senza vincolo di durata, fatturazione annuale</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation>Durata fissa di {months} mesi, fatturazione mensile</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation>Durata fissa di {months} mesi, fatturazione annuale</translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation>Il contatto di fatturazione può annullare {product} online: usi Annulla sottoscrizione nel riquadro del prodotto.</translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation>Al momento non è possibile annullare nulla su questo account.</translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation>Annullamento assistito – {account}</translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation>Interruzione in corso…</translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation>Annullare {product}?</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Piano</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenze</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frequenza di fatturazione</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation>Una prova gratuita senza dati di fatturazione scade semplicemente al termine del periodo di prova, il {date}, senza alcun addebito e senza altre azioni da parte del cliente. Annullandola ora si registra solo il motivo.</translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation>Il contratto è valido fino al {date}: per i mesi rimanenti vengono ancora fatturati {amount}. Non è previsto alcun rimborso.</translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation>Il periodo di fatturazione in corso è già pagato e non viene rimborsato; non viene fatturato altro. I dati vengono conservati fino al {deletion}, poi eliminati.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation>Questa sottoscrizione non può essere annullata qui.</translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation>Verifichi cosa succede, indichi un motivo e confermi con Sì, annulla.</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fine della prova</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Rinnovo automatico</translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation>Nessuno: una prova non viene mai addebitata</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Attivo fino al</translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation>Disattivato: il piano non viene rinnovato dopo il {date}</translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation>Motivo dell&apos;annullamento</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Richiesto da:</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motivo:</translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation>De&amp;ttagli:</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>Scelga un motivo</translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation>Eventuali note del cliente (facoltative; al massimo {maximum} caratteri)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motivo</translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation>Dettagli del motivo</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Richiesto da</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation>{name} &lt;{email}&gt; (contatto di fatturazione)</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation>A&amp;vvia annullamento assistito…</translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation>È troppo costoso</translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation>Mancano funzionalità di cui abbiamo bisogno</translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation>Passiamo a un altro fornitore</translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation>Non ci serve più</translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation>Era per un progetto temporaneo</translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation>Problemi tecnici</translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation>Altro (specificare)</translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation>Annullamento confermato</translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation>Il rinnovo automatico è disattivato. Faccia clic su Chiudi per terminare.</translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation>La prova di {product} termina il {date}, senza addebiti.</translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation>La Sua sottoscrizione a {product} scade il {date}.</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annullamento in sospeso</translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation>Inviata a {email}</translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation>Inviata al contatto di fatturazione</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fine della prova</translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation>Scade il</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Rinnovo automatico</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Disattivato</translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation>Email di conferma</translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation>Se cambia idea, scelga Riattiva nel menu delle opzioni della sottoscrizione prima del {date}.</translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation>Apri &amp;Fatture</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation>{product} non può essere annullato online. Per l&apos;annullamento contatti l&apos;assistenza.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation>Al momento questa sottoscrizione non può essere annullata.</translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation>Annulla sottoscrizione: {product}</translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation>Annulla sottoscrizione</translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation>&amp;Sì, annulla</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation>&amp;Non annullare</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Chiudi</translation>
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
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Termina il</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importo</translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation>Carrello</translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation>Tutto il contenuto del carrello viene acquistato con un unico ordine e un&apos;unica fattura.</translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation>Controlli i prodotti nel carrello. Per toglierne uno, lo selezioni e prema Rimuovi dal carrello.</translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation>&amp;Rimuovi dal carrello</translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation>Prodotti nel carrello</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Completa la transazione</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>Attended and unattended remote support for help desks (previous generation).</source>
        <translation>Assistenza remota presidiata e non presidiata per help desk (generazione precedente).</translation>
    </message>
    <message>
        <source>Mobile device support</source>
        <translation>Supporto per dispositivi mobili</translation>
    </message>
    <message>
        <source>Camera share</source>
        <translation>Condivisione fotocamera</translation>
    </message>
    <message>
        <source>Additional storage (100 GB)</source>
        <translation>Spazio di archiviazione aggiuntivo (100 GB)</translation>
    </message>
    <message>
        <source>Remote support with a service desk, for technicians of any team size.</source>
        <translation>Assistenza remota con service desk, per tecnici di team di qualsiasi dimensione.</translation>
    </message>
    <message>
        <source>Remote monitoring, management and support for IT teams and managed service providers.</source>
        <translation>Monitoraggio, gestione e assistenza remoti per team IT e fornitori di servizi gestiti.</translation>
    </message>
    <message>
        <source>Third-party patch management</source>
        <translation>Gestione delle patch di terze parti</translation>
    </message>
    <message>
        <source>Mobile device management</source>
        <translation>Gestione dei dispositivi mobili</translation>
    </message>
    <message>
        <source>Additional storage (250 GB)</source>
        <translation>Spazio di archiviazione aggiuntivo (250 GB)</translation>
    </message>
    <message>
        <source>Cloud phone system with video meetings, messaging and a contact centre option.</source>
        <translation>Centralino in cloud con riunioni video, messaggistica e contact center opzionale.</translation>
    </message>
    <message>
        <source>Contact center</source>
        <translation>Contact center</translation>
    </message>
    <message>
        <source>Call recording storage</source>
        <translation>Archiviazione delle registrazioni delle chiamate</translation>
    </message>
    <message>
        <source>Online meetings and video conferencing.</source>
        <translation>Riunioni online e videoconferenze.</translation>
    </message>
    <message>
        <source>Additional cloud storage</source>
        <translation>Spazio cloud aggiuntivo</translation>
    </message>
    <message>
        <source>Conference room connector</source>
        <translation>Connettore per sale riunioni</translation>
    </message>
    <message>
        <source>Webinars and virtual events with registration, polls and analytics.</source>
        <translation>Webinar ed eventi virtuali con registrazione dei partecipanti, sondaggi e analisi.</translation>
    </message>
    <message>
        <source>Webinar recording storage</source>
        <translation>Archiviazione delle registrazioni dei webinar</translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation>I dati dell&apos;account sono stati esportati in {path}.</translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation>La carta predefinita è scaduta: aggiunga prima una nuova carta o imposti un altro metodo come predefinito.</translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation>{contract}.</translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation>Il contratto è valido dal {start} al {end}.</translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation>Il termine di preavviso di 30 giorni è scaduto il {deadline}: il contratto si rinnova ancora una volta prima di terminare.</translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation>Se viene annullato entro il {deadline}, non si rinnova.</translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation>Il periodo di fatturazione in corso termina il {date}.</translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}:</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Registrare un bonifico di {amount} per l&apos;account {account}?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>Addebitare {amount} su {method} per l&apos;account {account}?</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Paga il saldo</translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation>L&apos;operazione viene eseguita subito, prima dell&apos;annullamento: le fatture aperte vengono pagate a partire dalla meno recente e il cliente riceve via email una conferma di pagamento.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Paga {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation>Pagamento di {amount} ricevuto con {method}; il cliente è stato informato via email.</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Revoca tutte</translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>Revocare agli utenti la licenza di {products}?</numerusform>
            <numerusform>Revocare agli utenti tutte le %n licenze di {products}?</numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation>L&apos;operazione viene eseguita subito, prima dell&apos;annullamento: questi utenti non potranno più usare il prodotto.</translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation>&amp;Revoca tutte</translation>
    </message>
    <message>
        <source>Nothing was unassigned. The checklist now shows the current data: check it and press Unassign all again if needed.</source>
        <translation>Non è stata revocata alcuna licenza. La lista di controllo mostra ora i dati attuali: la verifichi e, se necessario, prema di nuovo Revoca tutte.</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>%n licenza è stata revocata.</numerusform>
            <numerusform>%n licenze sono state revocate.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation>Esporta dati dell&apos;account</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Archivi ZIP (*.zip)</translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation>Lettura dei dati dell&apos;account…</translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation>Scrittura dell&apos;archivio…</translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation>Esportazione dei dati dell&apos;account…</translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation>I dati dell&apos;account sono stati esportati.</translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation>Prima di annullare</translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation>Passaggio 3 di 6: tutte le condizioni devono essere soddisfatte prima di procedere con l&apos;annullamento.</translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation>Ogni pulsante di questa pagina esegue subito una sola operazione, dopo la Sua conferma: è l&apos;unica modifica effettuata prima del pulsante finale Annulla sottoscrizioni. Ogni voce viene spuntata automaticamente quando è soddisfatta.</translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation>Pa&amp;ga il saldo…</translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation>&amp;Metodi di pagamento…</translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation>&amp;Revoca tutte…</translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation>&amp;Esporta dati dell&apos;account…</translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation>Il chiamante conferma che esiste già un &amp;backup dei dati</translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Monthly</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box)</extracomment>
        <translation>Mensile</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Annuale</translation>
    </message>
    <message>
        <source>billed monthly</source>
        <extracomment>how a line is billed, as a whole phrase (never a lower-cased frequency word)</extracomment>
        <translation>fatturazione mensile</translation>
    </message>
    <message>
        <source>billed annually</source>
        <translation>fatturazione annuale</translation>
    </message>
    <message>
        <source>{price} per licence per month</source>
        <extracomment>&quot;per licence per month|year&quot; for the price of a tier or an add-on</extracomment>
        <translation>{price} per licenza al mese</translation>
    </message>
    <message>
        <source>{price} per licence per year</source>
        <translation>{price} per licenza all&apos;anno</translation>
    </message>
    <message>
        <source>{price} per month</source>
        <translation>{price} al mese</translation>
    </message>
    <message>
        <source>{price} per year</source>
        <translation>{price} all&apos;anno</translation>
    </message>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) Place order met a conflict: another operator changed what the review shows (going back reads the data again) the Plan page; ``None`` when the wizard was opened from the cart the page shown before the current one (to tell Back from Next)</extracomment>
        <translation>Acquisto — {company} ({account})</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Chiudi</translation>
    </message>
    <message>
        <source>subscribe to {plan}</source>
        <translation>sottoscrizione del piano {plan}</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licenza (prima: {old})</numerusform>
            <numerusform>%n licenze (prima: {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licenza</numerusform>
            <numerusform>%n licenze</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}: {plan}, {licences}, {billing}</source>
        <translation>{product}: {plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>{line}; adds {addons}</source>
        <translation>{line}; con l&apos;aggiunta di {addons}</translation>
    </message>
    <message>
        <source>Press Edit order to read the current data and review the order again.</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation>Prema Modifica ordine per leggere i dati attuali e rivedere l&apos;ordine.</translation>
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
        <translation>Prodotto:</translation>
    </message>
    <message>
        <source>Billing period:</source>
        <translation>Periodo di fatturazione:</translation>
    </message>
    <message>
        <source>{period} (starts today, {billing})</source>
        <translation>{period} (inizia oggi, {billing})</translation>
    </message>
    <message>
        <source>{new} (was {old})</source>
        <translation>{new} (prima: {old})</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licenze:</translation>
    </message>
    <message>
        <source>Plan price:</source>
        <translation>Prezzo del piano:</translation>
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
        <translation>Credito pro rata:</translation>
    </message>
    <message>
        <source>{amount} for {days} unused days ({period})</source>
        <translation>{amount} per {days} giorni non utilizzati ({period})</translation>
    </message>
    <message>
        <source>Subtotal:</source>
        <translation>Imponibile:</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>{amount} — reverse charge (VAT number {number})</source>
        <translation>{amount} — inversione contabile (partita IVA {number})</translation>
    </message>
    <message>
        <source>VAT ({rate}):</source>
        <translation>IVA ({rate}):</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Totale:</translation>
    </message>
    <message>
        <source>Account credit applied:</source>
        <translation>Credito dell&apos;account applicato:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Totale dovuto ora:</translation>
    </message>
    <message>
        <source>Becomes account credit:</source>
        <translation>Aggiunto al credito dell&apos;account:</translation>
    </message>
    <message>
        <source>Press Back to review the order again with the current data.</source>
        <translation>Prema Precedente per rivedere l&apos;ordine con i dati attuali.</translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message>
        <source>Simulated Clock</source>
        <extracomment>the upcoming-events panel&apos;s first height under the view (pixels) the clock moved (also after a cancelled move that did part of the way): the summary the upcoming-events panel refreshed after each move (set by ``install_clock_control``) the move running, if any the summary of the last move, while it is open why this operator may not move the clock (None: they may) View ▸ Simulated Clock (set by ``install_clock_control``) the result also after Cancel (the work&apos;s return value is dropped then)</extracomment>
        <translation>Orologio simulato</translation>
    </message>
    <message>
        <source>Moving the clock to {date} and running what is due…</source>
        <translation>Spostamento dell&apos;orologio al {date} ed esecuzione delle operazioni in scadenza…</translation>
    </message>
    <message>
        <source>Move the clock to the next renewal, trial end, cancellation end or term end.</source>
        <translation>Sposta l&apos;orologio al prossimo evento: rinnovo, fine di una prova, annullamento effettivo o fine di un contratto.</translation>
    </message>
    <message>
        <source>Nothing lies ahead: no renewal, trial end, cancellation or term end.</source>
        <translation>Nessun evento in programma: nessun rinnovo, fine di una prova, annullamento o fine di un contratto.</translation>
    </message>
    <message>
        <source>Move to {date}: {product} of {company} renews.</source>
        <translation>Vai al {date}: {product} di {company} si rinnova.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} trial of {company} ends.</source>
        <translation>Vai al {date}: termina la prova di {product} di {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the cancellation of {product} for {company} takes effect.</source>
        <translation>Vai al {date}: diventa effettivo l&apos;annullamento di {product} per {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} contract term of {company} ends.</source>
        <translation>Vai al {date}: termina il contratto di {product} di {company}.</translation>
    </message>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>E %n altro evento lo stesso giorno.</numerusform>
            <numerusform>E altri %n eventi lo stesso giorno.</numerusform>
        </translation>
    </message>
    <message>
        <source>+1 day</source>
        <translation>+1 giorno</translation>
    </message>
    <message>
        <source>Move the simulated date one day forward and run what is due.</source>
        <translation>Porta avanti la data simulata di un giorno ed esegue le operazioni in scadenza.</translation>
    </message>
    <message>
        <source>+1 month</source>
        <translation>+1 mese</translation>
    </message>
    <message>
        <source>Move the simulated date one month forward and run what is due.</source>
        <translation>Porta avanti la data simulata di un mese ed esegue le operazioni in scadenza.</translation>
    </message>
    <message>
        <source>To next event</source>
        <translation>Prossimo evento</translation>
    </message>
    <message>
        <source>To date…</source>
        <translation>Vai alla data…</translation>
    </message>
    <message>
        <source>Pick a day after today: the simulated date moves there and runs what is due.</source>
        <translation>Scelga un giorno successivo a oggi: la data simulata viene spostata a quel giorno e vengono eseguite le operazioni in scadenza.</translation>
    </message>
    <message>
        <source>Day to move the clock to</source>
        <translation>Giorno a cui spostare l&apos;orologio</translation>
    </message>
    <message>
        <source>The simulated clock of this demo database: it only moves forward.</source>
        <translation>L&apos;orologio simulato di questo database demo: può solo andare avanti.</translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message>
        <source>Renewal invoice</source>
        <extracomment>the tree&apos;s item role holding the account id of a line (None on group titles) lines listed per group; a long move on a large demo lists the first ones and a count</extracomment>
        <translation>Fattura di rinnovo</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Prova in scadenza</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prova terminata</translation>
    </message>
    <message>
        <source>{product} renewed for its last period</source>
        <translation>{product} rinnovato per l&apos;ultimo periodo</translation>
    </message>
    <message>
        <source>{product} renewed until {date}</source>
        <translation>{product} rinnovato fino al {date}</translation>
    </message>
    <message>
        <source>The {product} trial ended without a purchase</source>
        <translation>La prova di {product} è terminata senza acquisto</translation>
    </message>
    <message>
        <source>{product} ended: its cancellation took effect</source>
        <translation>{product} terminato: l&apos;annullamento è diventato effettivo</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, paid</source>
        <translation>Fattura {number} per {product}: {amount}, pagata</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, open</source>
        <translation>Fattura {number} per {product}: {amount}, aperta</translation>
    </message>
    <message>
        <source>“{email}” email about {product} to {address}</source>
        <translation>Email “{email}” relativa a {product} per {address}</translation>
    </message>
    <message>
        <source>“{email}” email about {product}</source>
        <translation>Email “{email}” relativa a {product}</translation>
    </message>
    <message>
        <source>{product} term renewed until {date}</source>
        <translation>Contratto di {product} rinnovato fino al {date}</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n fattura è scaduta</numerusform>
            <numerusform>%n fatture sono scadute</numerusform>
        </translation>
    </message>
    <message>
        <source>The data of {product} was marked for deletion</source>
        <translation>I dati di {product} sono stati contrassegnati per l&apos;eliminazione</translation>
    </message>
    <message>
        <source>Double-click or press Enter to open {company}</source>
        <extracomment>a line was activated (double-click or Enter): the account&apos;s id</extracomment>
        <translation>Faccia doppio clic o prema Invio per aprire {company}</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… e %n altro</numerusform>
            <numerusform>… e altri %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>%n evento non riuscito, verrà ritentato</numerusform>
            <numerusform>%n eventi non riusciti, verranno ritentati</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n sottoscrizione rinnovata</numerusform>
            <numerusform>%n sottoscrizioni rinnovate</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n prova scaduta</numerusform>
            <numerusform>%n prove scadute</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n sottoscrizione annullata</numerusform>
            <numerusform>%n sottoscrizioni annullate</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n fattura emessa, {total} in totale</numerusform>
            <numerusform>%n fatture emesse, {total} in totale</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n email in coda per i clienti</numerusform>
            <numerusform>%n email in coda per i clienti</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n contratto rinnovato</numerusform>
            <numerusform>%n contratti rinnovati</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n sottoscrizione con dati contrassegnati per l&apos;eliminazione</numerusform>
            <numerusform>%n sottoscrizioni con dati contrassegnati per l&apos;eliminazione</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled: the clock stopped on {date} instead of {requested}. What happened until then is kept.</source>
        <translation>Operazione annullata: l&apos;orologio si è fermato al {date} anziché al {requested}. Quanto avvenuto fino a quel momento viene mantenuto.</translation>
    </message>
    <message>
        <source>The clock moved from {start} to {end}.</source>
        <translation>L&apos;orologio è passato dal {start} al {end}.</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>Cosa è successo</translation>
    </message>
    <message>
        <source>Nothing was due between {start} and {end}.</source>
        <translation>Nessuna operazione in scadenza tra il {start} e il {end}.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n evento elaborato.</numerusform>
            <numerusform>%n eventi elaborati.</numerusform>
        </translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Data</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>What happened, by kind</source>
        <translation>Cosa è successo, per tipo</translation>
    </message>
    <message>
        <source>Double-click a line, or select it and press Enter, to open its account.</source>
        <translation>Per aprire l&apos;account di una riga, faccia doppio clic sulla riga oppure la selezioni e prema Invio.</translation>
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
        <translation>Richiesto da:</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation>Chiamante verificato:</translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation>annullato ora, attivo fino al {date}</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Ancora fatturato:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Fatturato ora:</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Nulla</translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation>Email di conferma a:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation>Confermi l&apos;annullamento</translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation>Passaggio 6 di 6: non viene annullato nulla finché non preme Annulla sottoscrizioni.</translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation>Annulla &amp;sottoscrizioni</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motivo:</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>&amp;Dettagli:</translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation>Quanto riferito dal chiamante (obbligatorio per Altro)</translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation>Scelga un motivo…</translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation>Super amministratore</translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation>Amministratore fatturazione</translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation>Amministratore prodotto</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Utente</translation>
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
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Rappresentante</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Nessuno</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Unexpected error</source>
        <extracomment>After the window is shown: open the log file, then warm up the write path. How long the exit waits for background reads before closing the database.</extracomment>
        <translation>Errore imprevisto</translation>
    </message>
    <message>
        <source>Billing Desktop ran into an unexpected error.</source>
        <translation>Billing Desktop ha riscontrato un errore imprevisto.</translation>
    </message>
    <message>
        <source>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>I dettagli sono stati scritti in {path}. Nessuna modifica è stata salvata a metà: ogni modifica viene salvata per intero o non viene salvata affatto. Può continuare a lavorare, oppure uscire e riavviare l&apos;applicazione.</translation>
    </message>
    <message>
        <source>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Nessuna modifica è stata salvata a metà: ogni modifica viene salvata per intero o non viene salvata affatto. Può continuare a lavorare, oppure uscire e riavviare l&apos;applicazione.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Esci</translation>
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
        <translation>✗ Piano inferiore: {reason}</translation>
    </message>
    <message>
        <source>In the Billing Center</source>
        <translation>Nel Centro fatturazione</translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message>
        <source>Open an account to see its Billing Center as the customer sees it.</source>
        <extracomment>the view was read again and what it shows changed the contact shown as; ``None`` = the account&apos;s billing contact</extracomment>
        <translation>Apra un account per vedere il suo Centro fatturazione come lo vede il cliente.</translation>
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
        <translation>✓ {product}: acquistabile</translation>
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
        <translation>Saldo da pagare: {amount}. Il cliente può pagarlo con Paga il saldo.</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Nessun importo dovuto.</translation>
    </message>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Fatture aperte (%n)</numerusform>
            <numerusform>Fatture aperte (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Fatture pagate (%n)</numerusform>
            <numerusform>Fatture pagate (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Invoice</source>
        <translation>Fattura</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Emessa</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Da pagare</translation>
    </message>
    <message>
        <source>{amount} (overdue)</source>
        <translation>{amount} (scaduta)</translation>
    </message>
    <message>
        <source>Billing period: {start} – {end}</source>
        <translation>Periodo di fatturazione: {start} – {end}</translation>
    </message>
    <message>
        <source>Billing Center</source>
        <translation>Centro fatturazione</translation>
    </message>
    <message>
        <source>&amp;As seen by:</source>
        <translation>Vi&amp;sto da:</translation>
    </message>
    <message>
        <source>Contact the Billing Center is shown as</source>
        <translation>Contatto dal cui punto di vista viene mostrato il Centro fatturazione</translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Scopri altri prodotti</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Fatture</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation>IVA esclusa</translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation>{amount} all&apos;anno</translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation>{amount} al mese</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation>Lettura dei dati…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation>{month}: {amount} previsti dai rinnovi in scadenza (IVA esclusa)</translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation>{month}: {amount} fatturati (IVA esclusa)</translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation>Val&amp;uta:</translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation>La valuta del grafico dei ricavi; gli importi non vengono mai convertiti</translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation>Fatturato</translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation>Previsto dai rinnovi in scadenza</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Acquistate</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Assegnate</translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation>Ricavi ricorrenti mensili</translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation>Licenze acquistate e assegnate per prodotto</translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation>Annullamenti in sospeso</translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation>Rinnovi nei prossimi {days} giorni</translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation>Nessuna sottoscrizione è in attesa di annullamento.</translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation>Nessuna sottoscrizione si rinnova nei prossimi {days} giorni.</translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation>Ricavi ricorrenti mensili in {currency}, IVA esclusa</translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation>Dati aggiornati al {date}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>A&amp;nnullamenti in sospeso (%Ln)</numerusform>
            <numerusform>A&amp;nnullamenti in sospeso (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>&amp;Rinnovi nei prossimi {days} giorni (%Ln)</numerusform>
            <numerusform>&amp;Rinnovi nei prossimi {days} giorni (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>Altro %Ln non mostrato</numerusform>
            <numerusform>Altri %Ln non mostrati</numerusform>
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
        <translation>Impossibile usare il database {path}: {detail}</translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation>Impossibile creare il database {path}: la cartella non è scrivibile ({detail}).</translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation>Il file {path} non è un database di Billing Desktop valido o è danneggiato; non è stato modificato.</translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation>Il database {path} è stato creato da una versione più recente di Billing Desktop (schema {revision}); aggiorni l&apos;applicazione per aprirlo. Il file non è stato modificato.</translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation>Il database {path} è di sola lettura: lo copi in una cartella scrivibile o ne corregga i permessi.</translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation>Il database {path} è bloccato da un altro programma: chiuda il programma e riprovi.</translation>
    </message>
    <message>
        <source>The disk holding the database {path} is full, so nothing was saved. Free some disk space and try again.</source>
        <translation>Il disco che contiene il database {path} è pieno, quindi non è stato salvato nulla. Liberi spazio su disco e riprovi.</translation>
    </message>
    <message>
        <source>The database file {path} cannot be found: it was moved or deleted, or its drive is not connected. Nothing was changed; put the file back and try again.</source>
        <translation>Impossibile trovare il file di database {path}: è stato spostato o eliminato, oppure la relativa unità non è collegata. Non è stato modificato nulla; rimetta il file al suo posto e riprovi.</translation>
    </message>
    <message>
        <source>The database {path} could not be read or written (a disk or network error); nothing was saved. Check the drive and try again.</source>
        <translation>Impossibile leggere o scrivere il database {path} (errore del disco o di rete); non è stato salvato nulla. Controlli l&apos;unità e riprovi.</translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation>Impossibile connettersi al server di database {path}: {detail}</translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation>{path} non è un indirizzo di database utilizzabile da Billing Desktop: {detail}</translation>
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
        <translation>Scelta del file di database</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>Database SQLite (*.sqlite3 *.sqlite *.db);;Tutti i file (*)</translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation>In uso ora:</translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation>&amp;File SQLite:</translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation>&amp;URL del server di database:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Sfoglia…</translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation>Se il file non esiste ancora, viene creato come nuovo database vuoto. L&apos;applicazione apre il database scelto quando si preme OK o Applica, e poi a ogni avvio.</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>DEMO DATABASE</source>
        <extracomment>the banner&apos;s colour: the status bar&apos;s DEMO badge&apos;s</extracomment>
        <translation>DATABASE DEMO</translation>
    </message>
    <message>
        <source>Fictitious customers on a simulated date. Reset it or return to a snapshot at any time.</source>
        <translation>Clienti fittizi con una data simulata. Può reimpostare il database o tornare a uno snapshot in qualsiasi momento.</translation>
    </message>
    <message>
        <source>Demo database</source>
        <translation>Database demo</translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation>Piani: {plans}</translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation>Da {price} per licenza al mese, con prova gratuita di {days} giorni</translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation>Da {price} per licenza al mese</translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation>Terminato il {ended}. I dati vengono conservati fino al {deletion}, poi eliminati.</translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation>Terminato il {ended}.</translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation>Non acquistabile ora: {reason}</translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation>Abbonati di nuovo</translation>
    </message>
    <message>
        <source>Buy</source>
        <translation>Acquista</translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation>Abbonati di nuovo a {product}</translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation>Acquista {product}</translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation>{product}, annullato</translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation>Contesta la fattura {number}</translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation>La fattura {number} è stata emessa il {date} e può essere contestata fino al {deadline}. La contestazione viene annotata sulla fattura; non viene emesso automaticamente alcun accredito.</translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation>Che cosa contesta il cliente?</translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation>&amp;Registra contestazione</translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation>Il numero della carta non è valido. Controlli le cifre.</translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation>La data di scadenza {month}/{year} non è valida.</translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation>La carta è scaduta nel {month:02d}/{year}.</translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation>Questo tipo di carta non è accettato.</translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation>L&apos;IBAN non è valido. Controlli le cifre.</translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation>Il formato dell&apos;IBAN non è valido.</translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation>{text} non è una data valida (usi AAAA-MM-GG, today oppure today+/-N seguito da d, w, m o y).</translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code.</extracomment>
        <translation>Codice valuta sconosciuto: {currency}.</translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <extracomment>Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation>L&apos;importo {amount} non è un numero.</translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation>{amount} non è un importo valido.</translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation>L&apos;importo {amount} è troppo elevato.</translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation>Un periodo deve terminare dopo il suo inizio ({start} – {end}).</translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation>La data è fuori dall&apos;intervallo supportato.</translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation>{day} è precedente alla data di inizio della fatturazione {anchor}.</translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation>Una durata fissa deve essere di almeno un mese.</translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation>Solo un super amministratore può richiedere l&apos;annullamento di questo prodotto.</translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation>Questo prodotto è stato acquistato tramite un rappresentante: solo un amministratore prodotto o un amministratore fatturazione autorizzato può richiederne l&apos;annullamento.</translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation>Solo un super amministratore o un amministratore fatturazione può richiedere l&apos;annullamento.</translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation>{on} non rientra nel periodo di fatturazione in corso ({start} – {end}).</translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation>Un contratto a durata fissa richiede una data di fine.</translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation>Per apportare modifiche ai prodotti o alle licenze, contatti l&apos;amministratore fatturazione ({name}, {email})</translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation>Questo è già il piano attuale.</translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation>Per passare a un piano inferiore, contatti l&apos;Assistenza clienti</translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation>È necessaria almeno una licenza.</translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation>Agli utenti sono assegnate {assigned} licenze. Revochi alcune assegnazioni prima di scendere sotto {assigned}.</translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation>Questo piano consente al massimo {maximum} licenze.</translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation>La sottoscrizione è scaduta. Si abboni di nuovo prima di apportare modifiche.</translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation>Prima di cambiare piano è necessario pagare la fattura scaduta.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation>Le fatture possono essere contestate entro 15 giorni dall&apos;emissione; l&apos;ultimo giorno utile era il {deadline}.</translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation>I rappresentanti possono modificare solo gli account Corporate loro assegnati.</translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation>I formatori possono apportare modifiche solo in un database demo.</translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation>Il Suo ruolo è di sola lettura.</translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation>La data della modifica {on} è precedente all&apos;inizio del periodo di fatturazione in corso ({start}).</translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation>L&apos;importo non può essere negativo.</translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation>{country} non è un codice paese valido.</translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation>L&apos;aliquota IVA {rate} per {country} non è valida.</translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation>Il file delle aliquote IVA non è valido: {detail}.</translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation>Impossibile leggere il file delle aliquote IVA {path}.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation>{number} non è una partita IVA valida per {country}: ne controlli il formato.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation>{number} non è una partita IVA valida per {country}: ne controlli le cifre.</translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation>La partita IVA {number} appartiene a un paese diverso dal paese di fatturazione {country}.</translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation>Le partite IVA di {country} non possono essere convalidate.</translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation>Il Suo ordine {order_number} è confermato</translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation>La Sua sottoscrizione a {product} è stata annullata</translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation>La Sua sottoscrizione a {product} è stata riattivata</translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation>La Sua prova di {product} termina il {trial_end}</translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation>La Sua prova di {product} è terminata</translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation>Fattura {invoice_number} per la Sua sottoscrizione a {product}</translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation>Pagamento ricevuto: {amount}</translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation>Gentile {contact_name},

la ringraziamo per il Suo ordine {order_number}.

{summary}

Fattura {invoice_number}: {total} (importo dovuto ora: {amount_due}).
La prossima data di fatturazione è il {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation>Gentile {contact_name},

abbiamo annullato il rinnovo automatico della Sua sottoscrizione a {product}, che resta attiva fino al {expiry_date}.
Fino ad allora può riattivarla in qualsiasi momento.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation>Gentile {contact_name},

la Sua sottoscrizione a {product} verrà di nuovo rinnovata automaticamente. La prossima data di fatturazione è il {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation>Gentile {contact_name},

la Sua prova gratuita di {product} termina il {trial_end}. Si abboni entro tale data per continuare a utilizzare il prodotto.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation>Gentile {contact_name},

la Sua prova gratuita di {product} è terminata il {trial_end}. Non è stato addebitato nulla. Può abbonarsi in qualsiasi momento.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation>Gentile {contact_name},

la Sua sottoscrizione a {product} è stata rinnovata per il periodo {period}.
Fattura {invoice_number}: {total}. L&apos;importo è stato addebitato su {charged_to}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation>Gentile {contact_name},

la Sua sottoscrizione a {product} è stata rinnovata per il periodo {period}.
Fattura {invoice_number}: {total}. La preghiamo di pagare {amount_due} entro il {due_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation>Gentile {contact_name},

la Sua sottoscrizione a {product} è stata rinnovata per il periodo {period}.
Fattura {invoice_number}: {total}. La fattura è stata pagata con il credito del Suo account; non è dovuto nulla.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation>Gentile {contact_name},

abbiamo ricevuto il Suo pagamento di {amount} per {invoice_numbers}. La ringraziamo.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation>Gentile {contact_name},

abbiamo ricevuto il Suo pagamento di {amount}. L&apos;importo è stato aggiunto al credito del Suo account e verrà utilizzato per pagare le prossime fatture. La ringraziamo.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation>Gentile {contact_name},

abbiamo ricevuto il Suo pagamento di {amount} per {invoice_numbers}; una parte, pari a {to_credit}, è stata aggiunta al credito del Suo account. La ringraziamo.
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
Cordiali saluti,
Il team Fatturazione

Account {account_number} · {company_name}
</translation>
    </message>
</context>
<context>
    <name>EmailsModel</name>
    <message>
        <source>Date</source>
        <extracomment>The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Data</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Oggetto</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Destinatario</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Inviata il {when}</translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation>Ultimo errore: {error}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>sconosciuto</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Prossimo tentativo: {when}</translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation>In attesa di invio</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>In copia: {addresses}</translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Conferma d&apos;ordine</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Conferma di annullamento</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Riattivazione</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Prova in scadenza</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prova terminata</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Fattura di rinnovo</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Pagamento ricevuto</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>In coda</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Inviata</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Non riuscita</translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n email</numerusform>
            <numerusform>%n email</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n email, di cui non riuscite: {failed}</numerusform>
            <numerusform>%n email, di cui non riuscite: {failed}</numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Selezioni un&apos;email per leggerla.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, in copia {cc}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Inviata il {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Non riuscita dopo %n tentativo: {error}</numerusform>
            <numerusform>Non riuscita dopo %n tentativi: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation>In coda dal {when}</translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation>&amp;Riprova l&apos;invio</translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation>Invia di nuovo l&apos;email non riuscita selezionata al prossimo ciclo di invio</translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation>A questo cliente non è stata ancora inviata alcuna email.</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>A:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Oggetto:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Stato:</translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation>Email inviate al cliente</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Testo dell&apos;email</translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Conferma d&apos;ordine</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Conferma di annullamento</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Riattivazione</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Prova in scadenza</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prova terminata</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Fattura di rinnovo</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Pagamento ricevuto</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>In attesa</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Inviata</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Non riuscita</translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation>Tutte le email ({count})</translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation>In attesa ({count})</translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation>Non riuscite ({count})</translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation>Non ancora inviate ({count})</translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation>Inviate ({count})</translation>
    </message>
    <message>
        <source>{status}: {error}</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``).</extracomment>
        <translation>{status}: {error}</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>In copia: {addresses}</translation>
    </message>
    <message>
        <source>{number} · {company}</source>
        <translation>{number} · {company}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Inviata il {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Non riuscita dopo %n tentativo: {error}</numerusform>
            <numerusform>Non riuscita dopo %n tentativi: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>nessun motivo indicato</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Prossimo tentativo: {when}</translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>In attesa dal {when}; %n tentativo precedente non riuscito: {error}</numerusform>
            <numerusform>In attesa dal {when}; %n tentativi precedenti non riusciti: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Pending since {when}</source>
        <translation>In attesa dal {when}</translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>the server-level problem (unreachable, login refused), translatable The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation>È configurato un server di posta.</translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation>Nessun server di posta configurato: le email restano nella posta in uscita.</translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation>Configuri il server SMTP nelle Impostazioni.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln email</numerusform>
            <numerusform>%Ln email</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n email verrà inviata non appena sarà configurato un server di posta (Impostazioni, Server di posta). Non è andato perso nulla.</numerusform>
            <numerusform>%n email verranno inviate non appena sarà configurato un server di posta (Impostazioni, Server di posta). Non è andato perso nulla.</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation>Nessun server di posta configurato, quindi non è stato inviato nulla. Le email restano nella posta in uscita: configuri il server SMTP nelle Impostazioni e le invii di nuovo.</translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation>Nessuna email da inviare ora. Le email non riuscite vengono ritentate all&apos;ora del prossimo tentativo; in alternativa, le selezioni e scelga Riprova ora.</translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation>Invio delle email</translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>Invio di %n email al server di posta…</numerusform>
            <numerusform>Invio di %n email al server di posta…</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation>Nessun server di posta configurato, quindi non è stato inviato nulla. Le email restano nella posta in uscita.</translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>Impossibile usare il server di posta: %n email resta nella posta in uscita e verrà ritentata più tardi. Risposta del server: {error}</numerusform>
            <numerusform>Impossibile usare il server di posta: %n email restano nella posta in uscita e verranno ritentate più tardi. Risposta del server: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n email inviata.</numerusform>
            <numerusform>%n email inviate.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n email inviata; rifiutate dal server: {failed} (veda Ultimo errore).</numerusform>
            <numerusform>%n email inviate; rifiutate dal server: {failed} (veda Ultimo errore).</numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation>Invio interrotto. Le email inviate fino a quel momento risultano inviate; le altre restano nella posta in uscita.</translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Selezioni un&apos;email per leggerla.</translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation>Ancora nessuna email qui.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, in copia {cc}</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Mostra:</translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation>&amp;Riprova ora</translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation>Invia subito le email selezionate non riuscite o in attesa, senza aspettare</translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation>&amp;Invia ora quelle in attesa</translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation>Invia al server di posta tutte le email in attesa già pronte per l&apos;invio</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>A&amp;pri account</translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation>Mostra l&apos;account a cui è stata inviata questa email</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>A:</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>Account:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Oggetto:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Stato:</translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation>Email ai clienti</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Testo dell&apos;email</translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message>
        <source>What this step is about is not on the screen yet: do the steps before it first.</source>
        <extracomment>View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers) what the last Prepare found (a result, or the error reading the account)</extracomment>
        <translation>L&apos;elemento di questo passaggio non è ancora sullo schermo: esegua prima i passaggi precedenti.</translation>
    </message>
    <message>
        <source>Choose a walkthrough: it follows a help article step by step on a demo account, and ticks each step as you do it.</source>
        <translation>Scelga un percorso guidato: segue passo passo un articolo di assistenza su un account demo e spunta ogni passaggio man mano che lo esegue.</translation>
    </message>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>%n passaggio completato.</numerusform>
            <numerusform>Tutti i %n passaggi completati.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done! {outcome}</source>
        <translation>Fatto! {outcome}</translation>
    </message>
    <message>
        <source>Step {number} of {total}</source>
        <translation>Passaggio {number} di {total}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, done: {text}</source>
        <translation>Passaggio {number} di {total}, completato: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, current: {text}</source>
        <translation>Passaggio {number} di {total}, in corso: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}: {text}</source>
        <translation>Passaggio {number} di {total}: {text}</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>Guida</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>&amp;Guida</translation>
    </message>
    <message>
        <source>&amp;Walkthrough:</source>
        <translation>&amp;Percorso guidato:</translation>
    </message>
    <message>
        <source>Choose a walkthrough…</source>
        <translation>Scelga un percorso guidato…</translation>
    </message>
    <message>
        <source>Pr&amp;epare</source>
        <translation>Pr&amp;epara</translation>
    </message>
    <message>
        <source>Open the demo account of this walkthrough and start from step 1</source>
        <translation>Apre l&apos;account demo di questo percorso guidato e inizia dal passaggio 1</translation>
    </message>
    <message>
        <source>Show &amp;me</source>
        <translation>&amp;Mostra dove</translation>
    </message>
    <message>
        <source>Point at what the current step is about</source>
        <translation>Indica l&apos;elemento a cui si riferisce il passaggio corrente</translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation>Fattura</translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation>Numero fattura</translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation>Data di emissione</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Data di scadenza</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Periodo di servizio</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation>Intestatario</translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation>Alla c.a. di {name}</translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation>Partita IVA: {vat_number}</translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation>Ordine d&apos;acquisto: {po_number}</translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation>Termini di pagamento: {days} giorni data fattura</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Descrizione</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Periodo di fatturazione</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantità</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Prezzo unitario</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Imponibile</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>IVA {rate}</translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation>Inversione contabile — IVA da assolvere a cura del destinatario</translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation>Credito dell&apos;account applicato</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>Importo pagato</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importo dovuto</translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation>La preghiamo di pagare {amount} entro il {due_date}, indicando il numero di fattura {number}.</translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation>Pagata per intero. Grazie.</translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation>Questa fattura è stata annullata e non deve essere pagata.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Contestata il {date}: {note}</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>ANNULLATA</translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation>Inversione contabile: IVA da assolvere a cura del destinatario (articolo 196 della direttiva IVA 2006/112/CE).</translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation>Servizio</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Periodo di fatturazione</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantità</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Prezzo unitario</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation>Aperta</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Scaduta</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagata</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Annullata</translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation>{status}, contestata</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>What a row shows in one column: its text, alignment and colour (None: the default). Blocks of rows kept in memory (the rest is read again by id when shown).</extracomment>
        <translation>Numero</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Data</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Periodo di servizio</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation>Da pagare</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Scadenza</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation>I numeri di fattura seguono l&apos;ordine di emissione delle fatture</translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation>Il giorno di emissione della fattura; per l&apos;ordine esatto di emissione, usi la colonna Numero</translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation>Ordinate per account, poi per data della fattura all&apos;interno di ogni account</translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation>Ordinate per azienda, poi per data della fattura all&apos;interno di ogni account</translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation>Quanto resta da pagare sulla fattura</translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation>Prima le aperte (in cima le scadute), poi le pagate, infine le annullate</translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation>Saldo da pagare: {amount}</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>Nessun importo dovuto.</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Credito dell&apos;account: {amount}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>Fatture ap&amp;erte (%n)</numerusform>
            <numerusform>Fatture ap&amp;erte (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>Fatture &amp;pagate (%n)</numerusform>
            <numerusform>Fatture &amp;pagate (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation>Nessuna fattura aperta: è tutto pagato.</translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation>Dettagli della fattura</translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation>Selezioni una fattura per vederne le righe.</translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation>Fattura {number} del {date}</translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation>IVA (inversione contabile)</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>IVA {rate}</translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation>Scaduta: la scadenza era il {date}.</translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation>Scade il {date}.</translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Annullata il {date}: {reason}</translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation>Pagamento di {amount} del {date} con {method}.</translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation>IVA in inversione contabile: partita IVA del cliente {vat}.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Contestata il {date}: {note}</translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation>Contestabile fino al {date}.</translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation>Il termine per la contestazione è scaduto il {date}.</translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation>bonifico bancario</translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation>Una fattura annullata non può essere contestata.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation>Le fatture possono essere contestate entro 15 giorni dall&apos;emissione; per la fattura {number} l&apos;ultimo giorno utile era il {date}.</translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation>La carta predefinita {method} è scaduta: aggiunga prima una nuova carta o imposti un altro metodo come predefinito.</translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation>Su questo account non è dovuto nulla.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Il Suo ruolo consente di visualizzare questo account, ma non di modificarlo.</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Paga il saldo</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>Registrare un bonifico di {amount} per l&apos;account {account}?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>Addebitare {amount} su {method} per l&apos;account {account}?</translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation>Le fatture aperte vengono pagate a partire dalla meno recente e il cliente riceve un&apos;email.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Paga {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation>Pagamento di {amount} ricevuto con {method}.</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n fattura pagata: {numbers}.</numerusform>
            <numerusform>%n fatture pagate: {numbers}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation>Accreditati sull&apos;account: {amount}.</translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation>Saldo ancora da pagare: {amount}.</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Pagamento registrato</translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation>Al cliente è stata inviata via email una conferma di pagamento.</translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation>La contestazione è stata annotata sulla fattura {number}.</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Preparazione della fattura {number}…</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Impossibile avviare un visualizzatore PDF; la fattura si trova in {path}.</translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation>Salva fattura come PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>File PDF (*.pdf)</translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation>La fattura {number} è stata salvata in {path}.</translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation>Salvataggio della fattura {number}…</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} is not writable. Choose another folder and save again.</source>
        <translation>La fattura {number} non è stata salvata: la cartella {folder} non è scrivibile. Scelga un&apos;altra cartella e salvi di nuovo.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} does not exist. Choose another folder and save again.</source>
        <translation>La fattura {number} non è stata salvata: la cartella {folder} non esiste. Scelga un&apos;altra cartella e salvi di nuovo.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the disk is full. Free some space or choose another folder and save again.</source>
        <translation>La fattura {number} non è stata salvata: il disco è pieno. Liberi spazio o scelga un&apos;altra cartella e salvi di nuovo.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved to {folder} ({error}). Choose another folder and save again.</source>
        <translation>La fattura {number} non è stata salvata in {folder} ({error}). Scelga un&apos;altra cartella e salvi di nuovo.</translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation>Impossibile scrivere il PDF: {error}</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Operazione annullata; non è stato scritto alcun file.</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>PDF della fattura</translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation>Paga il &amp;saldo…</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Apri P&amp;DF</translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation>Sa&amp;lva PDF…</translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation>&amp;Contesta…</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Imponibile</translation>
    </message>
    <message>
        <source>VAT</source>
        <translation>IVA</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation>Credito dell&apos;account utilizzato</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagato</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importo dovuto</translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation>Aperta</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Scaduta</translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation>Aperta, contestata</translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation>Scaduta, contestata</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagata</translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation>Pagata, contestata</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Annullata</translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation>Annullata, contestata</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>sort order of the statuses: what needs attention first A value that sorts the column correctly (ints and strings only).</extracomment>
        <translation>Numero</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Data</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Periodo di servizio</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Descrizione</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importo dovuto</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (+%n altra riga)</numerusform>
            <numerusform>{description} (+%n altre righe)</numerusform>
        </translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Annullata il {date}: {reason}</translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation>Scaduta il {date}</translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation>Scade il {date}</translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id. The filter bar&apos;s and the action row&apos;s widgets, built right after the first paint (:meth:`_build_filters`) or when first used, whichever comes first. painted right after the table&apos;s first page: the list is what the user waits for</extracomment>
        <translation>Impossibile scrivere il PDF: {error}</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>PDF della fattura</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Preparazione della fattura {number}…</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Operazione annullata; non è stato scritto alcun file.</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>Impossibile avviare un visualizzatore PDF; la fattura si trova in {path}.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln fattura</numerusform>
            <numerusform>%Ln fatture</numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation>Nessuna fattura corrisponde ai filtri.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Cancella tutti i filtri</translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation>Ancora nessuna fattura.</translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation>Le fatture compaiono qui non appena ordini o rinnovi vengono fatturati.</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>Acc&amp;ount:</translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation>ID account o azienda</translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation>Digiti l&apos;inizio di un ID account o di una ragione sociale (Ctrl+F)</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Stato:</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Qualsiasi stato</translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation>Mostra solo le fatture con questo stato</translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation>Solo s&amp;cadute</translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation>Mostra solo le fatture aperte che hanno superato la data di scadenza</translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation>&amp;Emesse dal:</translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation>a&amp;l:</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Qualsiasi data</translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation>La data della fattura; il tasto Canc la riporta a qualsiasi data</translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation>Ca&amp;ncella filtri</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>A&amp;pri account</translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation>Apri l&apos;account della fattura selezionata</translation>
    </message>
    <message>
        <source>Open account</source>
        <translation>Apri account</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Apri P&amp;DF</translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation>Mostra la fattura selezionata in formato PDF</translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation>Apri PDF</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Fatture</translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation>Lingua</translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation>&amp;Lingua dell&apos;applicazione:</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Lingua di sistema</translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation>La nuova lingua viene usata subito e a ogni avvio. Le email e le fatture per i clienti mantengono la lingua di ciascun account.</translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation>Contatto</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Ruoli</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation>{name} (contatto di fatturazione)</translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n oltre le {licences} licenze</numerusform>
            <numerusform>%n oltre le {licences} licenze</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n libera su {licences}</numerusform>
            <numerusform>%n libere su {licences}</numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation>{product} ({plan})</translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation>{product}, piano {plan}, {status}: {assigned} assegnate su {licences}</translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation>{name} riceverà una licenza di {product} quando applicherà le modifiche.</translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation>{name} perderà la licenza di {product} quando applicherà le modifiche.</translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation>Nessuna licenza di {product} è libera. Acquisti altre licenze o revochi prima un&apos;assegnazione.</translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation>{product}
{seats}</translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation>{name}: licenza di {product}</translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation>Prova</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Attivo</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annullamento in sospeso</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Non registrato</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation>{name} (contatto di fatturazione)</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n modifica non ancora applicata</numerusform>
            <numerusform>%n modifiche non ancora applicate</numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation>Modifiche applicate.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>Richiesto &amp;da:</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation>Il contatto che ha richiesto la modifica, registrato nell&apos;attività</translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation>&amp;Ripristina</translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation>Scarta le modifiche non ancora applicate</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>A&amp;pplica</translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation>Assegna e revoca le licenze secondo le spunte</translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation>Questo account non ha sottoscrizioni in prova o attive, quindi non ci sono licenze da assegnare.</translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation>Licenze di ogni contatto</translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation>Assegna a tutti gli utenti</translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation>Seleziona tutti i contatti per {product}</translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation>Assegna {product} a tutti gli utenti</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Revoca a tutti</translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation>Deseleziona tutti i contatti per {product}</translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation>Revoca {product} a tutti gli utenti</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation>Amministratore</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>Supporto</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Rappresentante</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>Formatore</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Visualizzatore</translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>After the first paint, when the trainer&apos;s tools and presentation mode are added. How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation>Account</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Fatture</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the sandbox menu, simulated clock, guide and presentation mode are in place View ▸ Accounts, Invoices, … by view key View ▸ Language ▸ each language by code the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation>Operatore: {name} ({role})</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Database: {name}</translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation>Oggi: {date} (simulato)</translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation>Questo database usa una data simulata, non l&apos;orologio del computer.</translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation>Oggi: {date}</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;Un back-office per la fatturazione di sottoscrizioni software.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation>Informazioni su Billing Desktop</translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation>{database} (demo)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation>Apri database &amp;demo</translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation>Passa al database demo con account di esempio</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Visualizza</translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation>&amp;Trova account…</translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation>Trova un account per ID, azienda, nome o email di un contatto, oppure numero di fattura</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Impostazioni</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Impostazioni…</translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation>Lingua, database, server di posta, tema e identità dell&apos;operatore</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Lingua</translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation>Mostra &amp;navigazione</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Aggiorna</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Aiuto</translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation>&amp;Informazioni su Billing Desktop</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>Navigazione</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DEMO</translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation>Database demo: clienti fittizi e data simulata.</translation>
    </message>
</context>
<context>
    <name>MissingDatabase</name>
    <message>
        <source>The database {path} cannot be found.</source>
        <translation>Impossibile trovare il database {path}.</translation>
    </message>
    <message>
        <source>It was moved or deleted, or its drive or network share is not connected. Nothing was created in its place, and Billing Desktop looks for it again at the next start. You can open the default database for now, choose another database file, or quit and connect the drive first.</source>
        <translation>È stato spostato o eliminato, oppure la sua unità o cartella di rete non è collegata. Al suo posto non è stato creato nulla e Billing Desktop lo cercherà di nuovo al prossimo avvio. Per ora può aprire il database predefinito, scegliere un altro file di database oppure uscire e collegare prima l&apos;unità.</translation>
    </message>
    <message>
        <source>Open the &amp;default database</source>
        <translation>Apri il database &amp;predefinito</translation>
    </message>
    <message>
        <source>&amp;Choose another file…</source>
        <translation>&amp;Scegli un altro file…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message>
        <source>Open a database file</source>
        <translation>Apri un file di database</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db)</source>
        <translation>Database SQLite (*.sqlite3 *.sqlite *.db)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tutti i file (*)</translation>
    </message>
</context>
<context>
    <name>OperatorAdminMenu</name>
    <message>
        <source>&amp;Operators…</source>
        <translation>&amp;Operatori…</translation>
    </message>
    <message>
        <source>Create operators, set their roles and assign representatives</source>
        <translation>Crea gli operatori, ne imposta i ruoli e assegna i rappresentanti</translation>
    </message>
    <message>
        <source>Only administrators manage operators</source>
        <translation>Solo gli amministratori gestiscono gli operatori</translation>
    </message>
</context>
<context>
    <name>OperatorFormDialog</name>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <extracomment>None: a new operator; else the operator whose password is reset the service&apos;s answer (the new or changed ``OperatorRow``) once accepted</extracomment>
        <translation>Le due password non coincidono; la digiti di nuovo.</translation>
    </message>
    <message>
        <source>New Operator</source>
        <translation>Nuovo operatore</translation>
    </message>
    <message>
        <source>The new operator signs in with this email address and password. Tell them the password in person or by phone, not by email.</source>
        <translation>Il nuovo operatore accede con questo indirizzo email e questa password. Comunichi la password di persona o per telefono, non via email.</translation>
    </message>
    <message>
        <source>&amp;Create Operator</source>
        <translation>&amp;Crea operatore</translation>
    </message>
    <message>
        <source>Reset Password</source>
        <translation>Reimposta password</translation>
    </message>
    <message>
        <source>A new password for {name} ({email}). It also lifts a lock after failed sign-ins. Tell them the password in person or by phone, not by email.</source>
        <translation>Una nuova password per {name} ({email}), che rimuove anche un eventuale blocco dovuto ad accessi non riusciti. Comunichi la password di persona o per telefono, non via email.</translation>
    </message>
    <message>
        <source>&amp;Set Password</source>
        <translation>&amp;Imposta password</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nome:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;Indirizzo email:</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>&amp;Ruolo:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Password:</translation>
    </message>
    <message>
        <source>R&amp;epeat password:</source>
        <translation>Con&amp;ferma password:</translation>
    </message>
    <message>
        <source>At least {count} characters, not the email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Almeno {count} caratteri, diversa dall&apos;indirizzo email. Alcune parole senza relazione tra loro formano una buona password, facile da ricordare.</translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation>Operatore</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Il Suo &amp;nome:</translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation>La Sua &amp;email:</translation>
    </message>
    <message>
        <source>Role:</source>
        <translation>Ruolo:</translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation>Visualizzato nella barra di stato e registrato con ogni modifica che apporta in questo database.</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>&amp;Enable</source>
        <translation>A&amp;bilita</translation>
    </message>
    <message>
        <source>&amp;Disable…</source>
        <translation>&amp;Disabilita…</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Non può disabilitare sé stesso; può farlo un altro amministratore.</translation>
    </message>
    <message>
        <source>Created the operator {name} ({role}).</source>
        <translation>Creato l&apos;operatore {name} ({role}).</translation>
    </message>
    <message>
        <source>Change Role</source>
        <translation>Cambia ruolo</translation>
    </message>
    <message>
        <source>Role of {name}:</source>
        <translation>Ruolo di {name}:</translation>
    </message>
    <message>
        <source>&amp;Change Role</source>
        <translation>&amp;Cambia ruolo</translation>
    </message>
    <message>
        <source>{name} is now {role}.</source>
        <translation>{name} ha ora il ruolo {role}.</translation>
    </message>
    <message>
        <source>Disable Operator</source>
        <translation>Disabilita operatore</translation>
    </message>
    <message>
        <source>Disable {name} ({email})?</source>
        <translation>Disabilitare {name} ({email})?</translation>
    </message>
    <message>
        <source>They can no longer sign in. Their work and the audit trail are kept, and you can enable them again at any time.</source>
        <translation>L&apos;operatore non potrà più accedere. Il suo lavoro e il registro delle attività vengono conservati, e può riabilitarlo in qualsiasi momento.</translation>
    </message>
    <message>
        <source>&amp;Disable</source>
        <translation>&amp;Disabilita</translation>
    </message>
    <message>
        <source>Enabled {name}.</source>
        <translation>Operatore {name} abilitato.</translation>
    </message>
    <message>
        <source>Disabled {name}.</source>
        <translation>Operatore {name} disabilitato.</translation>
    </message>
    <message>
        <source>Set a new password for {name}.</source>
        <translation>È stata impostata una nuova password per {name}.</translation>
    </message>
    <message>
        <source>There is no active representative yet. Create an operator with the role Representative first.</source>
        <translation>Non c&apos;è ancora nessun rappresentante attivo. Crei prima un operatore con il ruolo Rappresentante.</translation>
    </message>
    <message>
        <source>Assign Representative</source>
        <translation>Assegna rappresentante</translation>
    </message>
    <message>
        <source>Representative of {company} ({account}):</source>
        <translation>Rappresentante di {company} ({account}):</translation>
    </message>
    <message>
        <source>&amp;Assign</source>
        <translation>&amp;Assegna</translation>
    </message>
    <message>
        <source>{account} no longer has a representative.</source>
        <translation>L&apos;account {account} non ha più un rappresentante.</translation>
    </message>
    <message>
        <source>{name} is now the representative of {account}.</source>
        <translation>{name} è ora il rappresentante dell&apos;account {account}.</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>Operatori</translation>
    </message>
    <message>
        <source>&amp;Operators</source>
        <translation>&amp;Operatori</translation>
    </message>
    <message>
        <source>&amp;Corporate Accounts</source>
        <translation>Account &amp;Corporate</translation>
    </message>
    <message>
        <source>&amp;New Operator…</source>
        <translation>&amp;Nuovo operatore…</translation>
    </message>
    <message>
        <source>Change &amp;Role…</source>
        <translation>Cambia &amp;ruolo…</translation>
    </message>
    <message>
        <source>Reset &amp;Password…</source>
        <translation>Reimposta &amp;password…</translation>
    </message>
    <message>
        <source>&amp;Assign Representative…</source>
        <translation>&amp;Assegna rappresentante…</translation>
    </message>
    <message>
        <source>Re&amp;move Representative</source>
        <translation>Ri&amp;muovi rappresentante</translation>
    </message>
    <message>
        <source>Search by company name or account ID</source>
        <translation>Cerca per ragione sociale o ID account</translation>
    </message>
    <message>
        <source>No corporate account matches.</source>
        <translation>Nessun account Corporate corrisponde alla ricerca.</translation>
    </message>
    <message>
        <source>Corporate accounts</source>
        <translation>Account Corporate</translation>
    </message>
</context>
<context>
    <name>OperatorsModel</name>
    <message>
        <source>Name</source>
        <extracomment>the search waits for a pause in typing</extracomment>
        <translation>Nome</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Ruolo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>Ultimo accesso</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Disabilitato</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Bloccato</translation>
    </message>
    <message>
        <source>No password</source>
        <translation>Senza password</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Attivo</translation>
    </message>
    <message>
        <source>Cannot sign in until an administrator enables it.</source>
        <translation>Non può accedere finché un amministratore non lo riabilita.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.</source>
        <translation>Troppi accessi non riusciti: bloccato fino al {time}. La reimpostazione della password lo sblocca.</translation>
    </message>
    <message>
        <source>Has no password, so cannot sign in to a shared database. Reset the password to give one.</source>
        <translation>Non ha una password, quindi non può accedere a un database condiviso. Reimposti la password per assegnargliene una.</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Mai</translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches.</extracomment>
        <translation>Creata</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Destinatario</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Oggetto</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Tentativi</translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation>Prossimo tentativo</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation>Ragione &amp;sociale</translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation>Ti&amp;po di account</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>&amp;Indirizzo</translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation>In&amp;dirizzo (riga 2)</translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation>&amp;CAP</translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation>Ci&amp;ttà</translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation>Pr&amp;ovincia</translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation>Pa&amp;ese</translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation>Pa&amp;rtita IVA</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Lingua</translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation>Val&amp;uta</translation>
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
        <translation>Nome</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Ruoli</translation>
    </message>
    <message>
        <source>The billing contact may change plans and receives the invoices.</source>
        <translation>Il contatto di fatturazione può modificare i piani e riceve le fatture.</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation>Metodi di pagamento</translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation>Attivo: le fatture di rinnovo vengono pagate con il metodo di pagamento predefinito.</translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation>Disattivato: le fatture di rinnovo restano aperte finché non vengono pagate.</translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation>{state} Può modificarlo in {link}.</translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation>{days} giorni data fattura (le fatture scadono {days} giorni dopo l&apos;emissione)</translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation>Pagamento al ricevimento</translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation>Non assegnato</translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation>Nessuno (gli account Standard sono self-service)</translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>Il contatto di fatturazione (in grassetto) è {name}. I contatti e le loro licenze si gestiscono in Utenti e licenze.</translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>L&apos;account non ha un contatto di fatturazione. I contatti e le loro licenze si gestiscono in Utenti e licenze.</translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation>La valuta non può essere cambiata: l&apos;account ha già fatture o credito in questa valuta.</translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation>La valuta può essere cambiata fino alla prima fattura.</translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation>Nessun metodo di pagamento registrato</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Carta</translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation>{brand} che termina con {last4}, scadenza {month}/{year}</translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation>{brand} che termina con {last4}</translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation>Conto bancario che termina con {last4}</translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation>Pagamento su fattura</translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation>Gli account Standard sono self-service: {name} non sarà più il loro rappresentante.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation>Gli account Corporate pagano su fattura e sono seguiti da un rappresentante.</translation>
    </message>
    <message>
        <source>This account was changed by {operator} at {time}. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Questo account è stato modificato da {operator} il {time}. Le Sue modifiche vengono mantenute; Ricarica mostra i dati attuali e le scarta.</translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Questo account è stato modificato altrove. Le Sue modifiche vengono mantenute; Ricarica mostra i dati attuali e le scarta.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Indirizzo di fatturazione</translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation>Dati fiscali e documenti</translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation>Saldi e fatturazione</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Contatti</translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation>{label} *</translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation>Facoltativa, ad es. NL123456789B01</translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation>Verificata per il paese di fatturazione durante la digitazione; lasci vuoto se non presente.</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Facoltativo</translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation>Saldo da pagare</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Credito dell&apos;account</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Pagamento automatico</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Metodo di pagamento predefinito</translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation>Termini di pagamento</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Rappresentante</translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation>Può visualizzare questo account, ma non modificarlo.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Salva</translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation>Salva le modifiche (Ctrl+S)</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Ripristina</translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation>Ripristina i valori mostrati prima delle modifiche</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Ricarica</translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation>Rilegge l&apos;account dal database; le modifiche non salvate vengono scartate</translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation>Continui a digitare il numero della carta.</translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation>Scelga il mese e l&apos;anno di scadenza.</translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation>Continui a digitare l&apos;IBAN.</translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation>{country} •••• {last4}</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Aggiungi carta</translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation>Vengono conservati solo il circuito, le ultime quattro cifre e la data di scadenza; il numero della carta non viene mai memorizzato.</translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation>N&amp;umero della carta:</translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation>1234 5678 9012 3456</translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation>&amp;Scadenza:</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>Mese</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>Anno</translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation>&amp;Nome sulla carta:</translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation>Indirizzo di fatturazione della carta</translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation>Lasci vuoti questi campi per usare l&apos;indirizzo di fatturazione dell&apos;account.</translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation>&amp;Indirizzo:</translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation>&amp;CAP:</translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation>Ci&amp;ttà:</translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation>Co&amp;dice paese:</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>IT</translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation>Imposta questa carta come metodo di pagamento &amp;predefinito</translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation>Aggiungi conto bancario</translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation>Il conto viene addebitato tramite addebito diretto SEPA. Vengono conservati solo il paese e gli ultimi quattro caratteri dell&apos;IBAN.</translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation>&amp;IBAN:</translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation>IT60 X054 2811 1010 0000 0123 456</translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation>In&amp;testatario del conto:</translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation>Imposta questo conto bancario come metodo di pagamento &amp;predefinito</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>&amp;Aggiungi</translation>
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
        <translation>Carta</translation>
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
        <translation>Conto bancario ({country}) •••• {last4}</translation>
    </message>
    <message>
        <source>Invoice (bank transfer)</source>
        <translation>Fattura (bonifico bancario)</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation>Metodo di pagamento</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titolare</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Scadenza</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Indirizzo di fatturazione</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Stato</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Predefinito</translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation>Predefinito, scaduto</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Scaduto</translation>
    </message>
    <message>
        <source>Autopay and Pay balance charge the default method.</source>
        <translation>Il pagamento automatico e Paga il saldo addebitano gli importi sul metodo predefinito.</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Pagamento su fattura (%n giorno data fattura)</numerusform>
            <numerusform>Pagamento su fattura (%n giorni data fattura)</numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation>Gli account Corporate vengono fatturati secondo i loro termini di pagamento; carte e conti bancari si usano solo quando si registra un pagamento.</translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation>Le fatture di rinnovo vengono addebitate subito sul metodo di pagamento predefinito.</translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation>Le fatture di rinnovo restano aperte finché il cliente non le paga.</translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation>Nessun metodo di pagamento registrato.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Il Suo ruolo consente di visualizzare questo account, ma non di modificarlo.</translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation>Una carta scaduta non può essere il metodo predefinito.</translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation>Questo è già il metodo predefinito.</translation>
    </message>
    <message>
        <source>Nothing was changed: {operator} changed this account at {time}. The list now shows the current data.</source>
        <translation>Nessuna modifica apportata: {operator} ha modificato questo account il {time}. L&apos;elenco mostra ora i dati attuali.</translation>
    </message>
    <message>
        <source>Nothing was changed: this account was changed elsewhere. The list now shows the current data.</source>
        <translation>Nessuna modifica apportata: questo account è stato modificato altrove. L&apos;elenco mostra ora i dati attuali.</translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation>{method} è stato aggiunto.</translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation>{method} è ora il metodo di pagamento predefinito.</translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation>Rimuovi metodo di pagamento</translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation>Rimuovere {method} da questo account?</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Rimuovi</translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation>{method} è stato rimosso.</translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation>Il pagamento automatico è attivo.</translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation>Il pagamento automatico è disattivato.</translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation>Pagamento a&amp;utomatico: addebita i rinnovi sul metodo di pagamento predefinito</translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation>Aggiungi &amp;carta…</translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation>Aggiungi conto &amp;bancario…</translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation>Imposta come &amp;predefinito</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>&amp;Rimuovi…</translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation>&amp;Usa il metodo di pagamento registrato: {method}</translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation>Partita IVA valida: si applica l&apos;inversione contabile e non viene addebitata l&apos;IVA (0%).</translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation>Partita IVA valida: viene applicata l&apos;IVA al {rate}.</translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation>Pagamento e IVA</translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation>Inserisca i dati di pagamento e/o la partita IVA, quindi prema Effettua ordine.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation>Metodo di pagamento</translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation>Inserisci una &amp;nuova carta</translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation>Inserisci un con&amp;to bancario (addebito diretto SEPA)</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Partita IVA</translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation>Con una partita IVA valida di un paese UE diverso da quello del venditore si applica l&apos;inversione contabile: non viene aggiunta l&apos;IVA.</translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation>Partita &amp;IVA:</translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation>es. IT07664550212</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Totale</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>&amp;Effettua ordine</translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation>Al momento non è possibile apportare modifiche.</translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation>Corregga la scelta per vedere l&apos;ordine.</translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation>Scelga un altro piano, numero di licenze, frequenza di fatturazione o componente aggiuntivo per vedere quanto costa la modifica.</translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation>La modifica ha effetto da oggi.</translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation>Piano:</translation>
    </message>
    <message>
        <source>{old} → {new}</source>
        <translation>{old} → {new}</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licenze:</translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation>Frequenza di fatturazione:</translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation>Nuovo periodo di fatturazione:</translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation>Addebito per il periodo:</translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation>Credito per i giorni non utilizzati:</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (inversione contabile)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Totale dovuto ora:</translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation>Al credito dell&apos;account:</translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation>La pagina di riepilogo mostra la fattura esatta.</translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Il Suo carrello contiene %n prodotto.</numerusform>
            <numerusform>Il Suo carrello contiene %n prodotti.</numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation>Il Suo carrello è vuoto.</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Completa la transazione</translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation>&amp;Aggiungi al carrello</translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation>Modifica di prodotti o licenze per l&apos;account {account}</translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation>Selezioni il piano</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation>La prova gratuita di {product} è terminata. Per abbonarsi, scelga il livello del piano, il numero di licenze e la frequenza di fatturazione.</translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation>Scelga il livello del piano, il numero di licenze e la frequenza di fatturazione di {product}.</translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation>Modifichi il piano di {product}: un livello superiore, più o meno licenze, un&apos;altra frequenza di fatturazione o componenti aggiuntivi. Le modifiche hanno effetto da oggi.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>&amp;Richiesto da:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation>{name} &lt;{email}&gt; — contatto di fatturazione</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation>Il contatto che ha richiesto la modifica, registrato con l&apos;ordine</translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation>Sta operando con poteri di back-office: può scegliere un livello di piano inferiore e l&apos;ordine viene registrato come modifica di back-office.</translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation>Invia &amp;email all&apos;amministratore</translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation>Paga il sal&amp;do</translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation>&amp;Livello del piano</translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation>Licen&amp;ze:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n licenza assegnata a utenti</numerusform>
            <numerusform>%n licenze assegnate a utenti</numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation>&amp;Gestisci licenze</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frequenza di fatturazione</translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation>&amp;Mensile</translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation>Ann&amp;uale</translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation>Componenti agg&amp;iuntivi</translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation>Riepilogo dell&apos;ordine</translation>
    </message>
    <message>
        <source>Cart</source>
        <translation>Carrello</translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation>&amp;Visualizza carrello</translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation>{plan} — {price} (piano attuale)</translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation>{plan} — {price}</translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation>{addon} — {price} (incluso)</translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation>{addon} — {price}</translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation>non venduto in {currency}</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. Each language by its own name (never translated: a reader looks for their own). The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation>Inserisca un file di database o l&apos;URL di un server.</translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation>Inserisca il percorso completo del file di database, non {path}.</translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation>{path} è una cartella, non un file di database.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>La cartella {folder} non esiste.</translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation>Questo non è un URL di database. Lo scriva nel formato postgresql://utente:password@server:5432/database.</translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation>Un database SQLite deve essere un file.</translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation>I database {scheme} non sono supportati. Usi un file SQLite o un server PostgreSQL (postgresql://…).</translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation>L&apos;URL deve contenere il nome del server dopo //.</translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation>L&apos;URL deve contenere il nome del database dopo il server (/database).</translation>
    </message>
</context>
<context>
    <name>PresentationController</name>
    <message>
        <source>&amp;Presentation</source>
        <extracomment>The scales offered, in per cent. dynamic properties holding a widget&apos;s unscaled sizes while the mode is on QFont::SizeResolved (PySide does not expose QFont::ResolveProperties) Class fonts a platform theme may set (QApplication&apos;s initializeWidgetFontHash). Qt&apos;s own helper buttons, sized by their owner: never rescaled MainWindow&apos;s navigation: item height = line height + this, width ≥ this minimum (the formula of ``MainWindow.__init__`` / ``_fit_navigation``) How often the customer view re-reads its account while shown (a moved clock). the caption shown now (&quot;&quot; when none) where the mouse was last pressed (window coordinates) keys that do something rather than type: named even in a text field typed text kept in a caption</extracomment>
        <translation>&amp;Presentazione</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>Modalità &amp;presentazione</translation>
    </message>
    <message>
        <source>Enlarge the whole window for a projector or a screen share</source>
        <translation>Ingrandisce l&apos;intera finestra per un proiettore o una condivisione dello schermo</translation>
    </message>
    <message>
        <source>&amp;Scale</source>
        <translation>&amp;Scala</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent}%</translation>
    </message>
    <message>
        <source>Show &amp;Clicks and Keys</source>
        <translation>Mostra &amp;clic e tasti</translation>
    </message>
    <message>
        <source>Show where the mouse is clicked and which keys are pressed</source>
        <translation>Mostra dove si fa clic con il mouse e quali tasti vengono premuti</translation>
    </message>
    <message>
        <source>C&amp;ustomer View</source>
        <translation>&amp;Vista cliente</translation>
    </message>
    <message>
        <source>Show the open account&apos;s Billing Center as its billing contact sees it</source>
        <translation>Mostra il Centro fatturazione dell&apos;account aperto come lo vede il contatto di fatturazione</translation>
    </message>
    <message>
        <source>Customer View</source>
        <translation>Vista cliente</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation>Esecuzione dei rinnovi</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation>ID account {text}</translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation>Ragione sociale {text}</translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation>Contatto {text}</translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation>Email del contatto {text}</translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation>Fattura {text}</translation>
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
        <translation>Digiti un ID account, una ragione sociale, il nome o l&apos;email di un contatto, oppure un numero di fattura.</translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation>Nessun account corrisponde a “{text}”.</translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>Primo account trovato. Digiti altro testo per restringere la ricerca.</numerusform>
            <numerusform>I primi %n account trovati. Digiti altro testo per restringere la ricerca.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n account trovato. Invio apre quello selezionato.</numerusform>
            <numerusform>%n account trovati. Invio apre quello selezionato.</numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation>Trova account</translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation>ID account, azienda, nome o email del contatto, numero di fattura</translation>
    </message>
    <message>
        <source>Find account</source>
        <translation>Trova account</translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation>Account trovati</translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation>Impossibile trovare questa sottoscrizione.</translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation>{product} è stato riattivato: la prova continua fino al {date}. È stata inviata un&apos;email di conferma.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation>{product} è stato riattivato. La prossima data di fatturazione è il {date}. È stata inviata un&apos;email di conferma.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation>{product} è stato riattivato. È stata inviata un&apos;email di conferma.</translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation>Riattiva sottoscrizione</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Riattiva</translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation>&amp;Mantieni l&apos;annullamento</translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation>Riattivare {product}?</translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation>La prova continua fino al {date}; non è più annullata.</translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation>{product} si rinnova di nuovo automaticamente. La prossima data di fatturazione è il {date}.</translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation>{product} si rinnova di nuovo automaticamente.</translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation>Senza riattivazione scade il {date}.</translation>
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
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation>Data di rinnovo</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importo</translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation>Email:</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>Ruoli:</translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation>Contatto di fatturazione:</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Sì</translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation>Autorizzato ad annullare:</translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation>Sì, per i prodotti acquistati tramite un rappresentante</translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation>{product}: {rule}</translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation>Ancora nessuna selezione.</translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation>Scelga il contatto che fa la richiesta per verificare se è autorizzato.</translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation>{contact} non può richiedere l&apos;annullamento di {product}. {rule}</translation>
    </message>
    <message>
        <source>Requester</source>
        <translation>Richiedente</translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation>Passaggio 2 di 6: quale contatto chiede l&apos;annullamento, ed è autorizzato a farlo?</translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation>Solo alcuni ruoli possono chiedere all&apos;assistenza di annullare un prodotto. Scelga il contatto che sta chiamando: viene verificata la regola di ciascun prodotto da annullare.</translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation>C&amp;ontatto richiedente:</translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation>Chi può fare la richiesta</translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation>Scelga un contatto…</translation>
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
            <numerusform>%n elemento annullato. Il rinnovo automatico è disattivato.</numerusform>
            <numerusform>%n elementi annullati. Il rinnovo automatico è disattivato.</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation>attivo fino al {date}, importo ancora fatturato: {amount}</translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation>{number}: {amount}, pagata con il metodo registrato</translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation>{number}: {amount}, aperta (da pagare)</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Fattura di recesso anticipato:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Fatturato ora:</translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation>Nulla: il periodo in corso era già stato fatturato.</translation>
    </message>
    <message>
        <source>Email:</source>
        <translation>Email:</translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n email di conferma inviata a {email}</numerusform>
            <numerusform>%n email di conferma inviate a {email}</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annullamento eseguito</translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation>L&apos;annullamento è stato registrato e il cliente ha ricevuto un&apos;email.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Chiudi</translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation>Ordine:</translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation>Fattura:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licenza (prima: {old})</numerusform>
            <numerusform>%n licenze (prima: {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licenza</numerusform>
            <numerusform>%n licenze</numerusform>
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
        <translation>Prossima data di fatturazione:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Totale:</translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation>Addebitato ora:</translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation>{amount} su {method}</translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation>Da pagare entro il {date}:</translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation>Aggiunto al credito dell&apos;account:</translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation>Un&apos;email di conferma con i dettagli dell&apos;acquisto è stata inviata a {email}.</translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation>La sottoscrizione è stata aggiornata. Il periodo di fatturazione inizia oggi e la data di fatturazione corrisponde ora al giorno della modifica.</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Ordine effettuato</translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation>Le modifiche hanno effetto immediato.</translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation>Sono state aggiunte licenze: non dimentichi di assegnarle agli utenti, in modo che possano accedere.</translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation>&amp;Assegna le licenze ora</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <translation>Metodo di pagamento: {method}</translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation>Successivamente, confermi i dati di pagamento e/o la partita IVA.</translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation>Completa la transazione</translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation>Controlli il periodo di fatturazione (con inizio oggi), le licenze, il prezzo del piano e il totale dovuto. Prema Modifica ordine per apportare ulteriori modifiche.</translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation>Il Suo ordine:</translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation>&amp;Modifica ordine</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Completa la transazione</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>&amp;Effettua ordine</translation>
    </message>
</context>
<context>
    <name>SandboxMenu</name>
    <message>
        <source>New Demo Database</source>
        <extracomment>open (or re-open) the database file at this path in the GUI session the open demo database&apos;s content was replaced (reset, snapshot restored) reset and snapshots copy the demo database&apos;s file: not for a demo on a server the actions in the File menu, in order</extracomment>
        <translation>Nuovo database demo</translation>
    </message>
    <message>
        <source>Billing Desktop databases (*.sqlite3)</source>
        <translation>Database di Billing Desktop (*.sqlite3)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tutti i file (*)</translation>
    </message>
    <message>
        <source>“{file}” already exists. Replace it with a new demo database?</source>
        <translation>“{file}” esiste già. Sostituirlo con un nuovo database demo?</translation>
    </message>
    <message>
        <source>If it is a demo database, everything done in it is replaced by the curated demo accounts. Any other file is left untouched.</source>
        <translation>Se è un database demo, tutto ciò che vi è stato fatto viene sostituito dagli account demo predefiniti. Qualsiasi altro file non viene modificato.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Sostituisci</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>Creazione del database demo…</translation>
    </message>
    <message>
        <source>Everything done in it is lost: orders, cancellations, licence and payment changes, emails and operators added.</source>
        <translation>Tutto ciò che vi è stato fatto andrà perso: ordini, annullamenti, modifiche a licenze e pagamenti, email e operatori aggiunti.</translation>
    </message>
    <message>
        <source>The simulated date goes back from {today} to {start}.</source>
        <translation>La data simulata torna dal {today} al {start}.</translation>
    </message>
    <message>
        <source>The simulated date stays at {start}.</source>
        <translation>La data simulata resta invariata: {start}.</translation>
    </message>
    <message>
        <source>Snapshots are kept.</source>
        <translation>Gli snapshot vengono mantenuti.</translation>
    </message>
    <message>
        <source>Reset Demo Database</source>
        <translation>Reimposta database demo</translation>
    </message>
    <message>
        <source>Reset the demo database “{database}” to the curated demo accounts?</source>
        <translation>Reimpostare il database demo “{database}” con gli account demo predefiniti?</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>&amp;Reimposta</translation>
    </message>
    <message>
        <source>Resetting the demo database…</source>
        <translation>Reimpostazione del database demo…</translation>
    </message>
    <message>
        <source>&amp;New Demo Database…</source>
        <translation>&amp;Nuovo database demo…</translation>
    </message>
    <message>
        <source>Create a fresh demo database with the curated sample accounts and open it</source>
        <translation>Crea un nuovo database demo con gli account di esempio predefiniti e lo apre</translation>
    </message>
    <message>
        <source>&amp;Reset Demo Database…</source>
        <translation>&amp;Reimposta database demo…</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>Reimposta…</translation>
    </message>
    <message>
        <source>Return the demo database to the curated accounts of its first day</source>
        <translation>Riporta il database demo agli account predefiniti del suo primo giorno</translation>
    </message>
    <message>
        <source>Sna&amp;pshots…</source>
        <translation>Sna&amp;pshot…</translation>
    </message>
    <message>
        <source>Snapshots…</source>
        <translation>Snapshot…</translation>
    </message>
    <message>
        <source>Save the demo database&apos;s state under a name and return to it later</source>
        <translation>Salva con un nome lo stato del database demo per tornarci in seguito</translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n licenza</numerusform>
            <numerusform>{product} {plan}, %n licenze</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation>Annullabile solo tramite l&apos;assistenza.</translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation>Il contatto di fatturazione potrebbe annullarlo anche online.</translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation>Componente aggiuntivo: {addon}</translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation>Termina insieme al prodotto.</translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation>Con questa selezione le seguenti condizioni non sono ancora soddisfatte: {conditions}. Torni indietro con Precedente per risolverle, oppure modifichi la selezione.</translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation>Cosa annullare</translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation>Passaggio 4 di 6: i prodotti e i componenti aggiuntivi che il chiamante vuole annullare.</translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation>Selezioni ogni prodotto o componente aggiuntivo da annullare. I componenti aggiuntivi di un prodotto terminano insieme a esso; un componente aggiuntivo può anche essere annullato da solo.</translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation>Inserisca la ragione sociale.</translation>
    </message>
    <message>
        <source>Choose the account type.</source>
        <translation>Scelga il tipo di account.</translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation>Inserisca l&apos;indirizzo.</translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation>Inserisca il CAP.</translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation>Inserisca la città.</translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation>Scelga il paese.</translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation>Scelga la lingua.</translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation>Scelga la valuta.</translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation>Questo campo supera i {max} caratteri.</translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation>{value} non è un tipo di account.</translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation>I documenti non possono essere redatti nella lingua {language}.</translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation>La valuta dell&apos;account {account} non può essere cambiata: ci sono già fatture o credito in {currency}.</translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation>Il catalogo non contiene prezzi in {currency}.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation>Gli account Corporate pagano su fattura: disattivi il pagamento automatico dell&apos;account {account} (Metodi di pagamento) prima di trasformarlo in un account Corporate.</translation>
    </message>
    <message>
        <source>The account</source>
        <translation>l&apos;account</translation>
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
        <translation>Solo il personale di assistenza può eseguire questa operazione.</translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation>Il Suo ruolo ({role}) non consente questa operazione.</translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation>L&apos;orologio può essere spostato solo in un database demo.</translation>
    </message>
    <message>
        <source>Only a demo database can be reset or returned to a snapshot; this database was left unchanged.</source>
        <translation>Solo un database demo può essere reimpostato o riportato a uno snapshot; questo database non è stato modificato.</translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the range</extracomment>
        <translation>Sottoscrizione</translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation>L&apos;account {account} non ha un contatto di fatturazione.</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Contatto</translation>
    </message>
    <message>
        <source>The subscription</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation>la sottoscrizione</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``) &quot;To move to a lower plan, contact Customer Care&quot; when the product has a lower tier that cannot be chosen online and the contact may otherwise edit the plan whom the view is shown as (the billing contact unless another was asked for) every contact of the account, the billing contact first the message above the cards when this contact cannot make changes at all (representative, billing admin, overdue invoice, expired account); ``None`` otherwise the live products (cancelled ones are under ``discover``), in catalog order what the open invoices still ask for (the Billing Center&apos;s *Pay balance*) The role of the rules context: one that no operator-role limit refuses, so the Subscriptions tab&apos;s card function reports only what the account&apos;s state decides.</extracomment>
        <translation>{product} non può essere annullato online. Per l&apos;annullamento contatti l&apos;assistenza.</translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation>{product} non ha un annullamento in sospeso da revocare.</translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation>{product} è scaduto il {effective_end} e non può più essere riattivato. Si abboni di nuovo.</translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation>I mesi rimanenti di {product} sono stati fatturati con la fattura di recesso anticipato {invoice}; il prodotto può essere riattivato solo dopo che l&apos;assistenza avrà annullato tale fattura.</translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation>L&apos;annullamento non può procedere finché non sono soddisfatte queste condizioni: {conditions}.</translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation>{product} è già annullato; termina il {effective_end}.</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation>{product} non può essere annullato: non è più attivo.</translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation>Scelga un motivo per l&apos;annullamento.</translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation>{reason} non è uno dei motivi di annullamento.</translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation>Descriva il motivo dell&apos;annullamento.</translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation>Il motivo può contenere al massimo {maximum} caratteri.</translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation>{product} non ha un periodo di fatturazione in corso.</translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation>Il contratto non è stato disdetto almeno 30 giorni prima della scadenza ({term_end}), quindi si rinnova per un altro periodo: resta attivo, e viene fatturato, fino al {effective_end}.</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Componente aggiuntivo</translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation>Scelga almeno un prodotto o componente aggiuntivo da annullare.</translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation>{addon} è già stato annullato.</translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation>{addon} non può essere annullato separatamente durante una prova.</translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation>I dati del chiamante non corrispondono ({items}); ripeta la verifica del chiamante.</translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation>Il chiamante non è ancora stato verificato.</translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation>La verifica non è valida per questo account o è scaduta; ripeta la verifica del chiamante.</translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation>Verifica del chiamante eseguita il {at}.</translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation>Scelga il contatto che chiede l&apos;annullamento.</translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation>{contact} può richiedere questo annullamento.</translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation>L&apos;account ha un saldo da pagare di {amount}, che deve essere saldato prima dell&apos;annullamento.</translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation>Sull&apos;account non c&apos;è nulla da pagare.</translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation>Esamini con il chiamante il tipo di contratto, la data di fine e le condizioni di annullamento di ciascun prodotto.</translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation>Agli utenti sono ancora assegnate {count} licenze ({products}); le revochi prima.</translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation>Nessuna licenza è assegnata a utenti.</translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation>Il chiamante ha confermato che esiste un backup dei dati.</translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation>Si faccia confermare che è stato eseguito un backup dei dati del cliente; proponga un&apos;esportazione dei dati dell&apos;account.</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID account</translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation>Email dell&apos;amministratore fatturazione</translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation>Ultime quattro cifre del metodo di pagamento</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Indirizzo di fatturazione</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>CAP</translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation>Chiamante verificato</translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation>Richiedente autorizzato</translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation>Nessun saldo da pagare</translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation>Condizioni contrattuali esaminate</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licenze revocate</translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation>Backup dei dati eseguito</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Verifica il chiamante</translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation>Scegli un altro contatto</translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation>Registra un pagamento</translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation>Revoca le licenze</translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation>Esporta i dati dell&apos;account</translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled) added by the order: new ones, or cancelled ones again cancelled add-ons added again that are paid for the current period: credited for its unused days like the running ones (the new period bills them again); one not added again simply runs out at its ``ends_on``, neither credited nor billed</extracomment>
        <translation>{frequency} non è una frequenza di fatturazione.</translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation>{product} non ha un piano {plan}.</translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation>{product} non ha il componente aggiuntivo {addon}.</translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation>Il numero di licenze deve essere un numero intero.</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation>{kind} non è un tipo di articolo del carrello.</translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation>La sottoscrizione non è un piano {product}.</translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation>{product} è terminato. Si abboni di nuovo per utilizzarlo.</translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation>{product} è in corso di annullamento. Lo riattivi prima di cambiare piano.</translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation>{product} è già sottoscritto. Per cambiarlo, modifichi la sottoscrizione.</translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation>{product} include già {addon}.</translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation>Scelga il nuovo valore per {product}.</translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation>Questa scelta non modifica la sottoscrizione.</translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation>Per apportare modifiche ai prodotti o alle licenze, contatti il Suo rappresentante {name}</translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation>L&apos;account {account} è chiuso.</translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation>{product} {plan} non è acquistabile in {currency}.</translation>
    </message>
    <message>
        <source>The cart</source>
        <translation>il carrello</translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation>Articolo del carrello</translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited the version of the subscription as priced (``None``: a new subscription); see :attr:`OrderPreview.subscription_versions` version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to charge exactly the method shown, even if the default changed since corporate: invoiced on payment terms instead of charged the account data the figures were computed with: pass it to ``place_order(expected_account_terms=...)`` so that the order is refused (:class:`ConflictError`) if one of them changed since this preview licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them ``next_period`` (a pure function of its arguments; its periods are immutable)</extracomment>
        <translation>Inserisca una carta o un conto bancario: non è registrato alcun metodo di pagamento valido.</translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation>Confermi il metodo di pagamento per la nuova sottoscrizione.</translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation>Confermi il metodo di pagamento: il nuovo piano costa di più.</translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation>Aggiunga la partita IVA, se l&apos;azienda ne ha una; in caso contrario viene applicata l&apos;IVA al {rate}% ({country}).</translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation>La prova gratuita di {product} termina oggi anziché il {trial_end}: la sottoscrizione a pagamento inizia ora.</translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation>{product} resta vincolato al contratto a durata fissa fino al {term_end}.</translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation>Dopo l&apos;ordine, assegni agli utenti le nuove licenze di {product}.</translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation>{amount} viene accreditato sull&apos;account e usato per le fatture successive.</translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation>L&apos;ordine viene fatturato, con pagamento entro {days} giorni.</translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation>L&apos;ordine d&apos;acquisto {po} è scaduto il {expiry}.</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation>Il carrello è vuoto: non c&apos;è nulla da ordinare.</translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>the SET clause comes from the values given (always the same columns) moves the version of a subscription the order checked but did not otherwise update checks (and locks) an account row the order does not otherwise change at its version</extracomment>
        <translation>Il token dell&apos;ordine deve avere da 1 a {max} caratteri.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)</extracomment>
        <translation>Metodo di pagamento</translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation>Impossibile addebitare su {method}: scelga un altro metodo di pagamento.</translation>
    </message>
    <message>
        <source>The order</source>
        <translation>l&apos;ordine</translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation>Questo token è già stato usato per un altro ordine.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation>Gli account Corporate pagano su fattura secondo i loro termini di pagamento, non con carta.</translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation>L&apos;orologio può solo andare avanti: {date} è precedente alla data attuale {today}.</translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation>Fattura</translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation>Elemento non trovato: {what} {key}. Potrebbe essere stato eliminato.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} at {changed_at} — reload to see the current data. Your input is kept.</source>
        <translation>{changed_by} ha modificato {what} il {changed_at} — ricarichi per vedere i dati attuali. I dati inseriti vengono conservati.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} in the meantime — reload to see the current data. Your input is kept.</source>
        <translation>{changed_by} ha modificato {what} nel frattempo — ricarichi per vedere i dati attuali. I dati inseriti vengono conservati.</translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation>Qualcun altro ha modificato {what} nel frattempo; ricarichi per vedere i dati attuali. I dati inseriti vengono conservati.</translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation>Impossibile scrivere l&apos;esportazione in {path}: {reason}</translation>
    </message>
    <message>
        <source>The invoice</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>la fattura</translation>
    </message>
    <message>
        <source>The invoice recipients</source>
        <translation>i destinatari delle fatture</translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation>Inserisca {what}.</translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation>Testo troppo lungo: {what} può contenere al massimo {max} caratteri.</translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation>{status} non è uno stato di fattura.</translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation>la nota di contestazione</translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation>La fattura {invoice} è annullata e non può essere contestata.</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>il motivo</translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation>Si possono annullare solo le fatture aperte; lo stato di {invoice} è {status}.</translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation>Sulla fattura {invoice} sono registrati pagamenti: non può essere annullata.</translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation>{email} non è un indirizzo email valido.</translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation>Le fatture possono essere inviate al massimo a {max} indirizzi oltre al contatto di fatturazione; ne sono stati indicati {count}.</translation>
    </message>
    <message>
        <source>The licence assignments</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>le assegnazioni delle licenze</translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). the subscription&apos;s version, for ``expected_version`` of assign/unassign contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op) the subscription&apos;s version after the call (for the next ``expected_version``)</extracomment>
        <translation>{value} non è l&apos;ID di un contatto.</translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation>{contact} è un contatto di un altro account e non può avere una licenza dell&apos;account {account}.</translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation>Impossibile assegnare licenze di {product}: lo stato della sottoscrizione è {status}.</translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation>Solo {free} delle {licences} licenze di {product} sono libere, ma i contatti da assegnare sono {requested}. Acquisti altre licenze o revochi prima alcune assegnazioni.</translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>The roles an operator can have, most powerful first (SPEC §6). At most this many corporate accounts per list (the search narrows it down). has a password, so can sign in to a shared database sign-in refused until then after repeated failures (None: not locked) corporate accounts assigned to this operator as representative
----------
``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation>Operatore</translation>
    </message>
    <message>
        <source>You are no longer an active administrator of this database; sign in again to continue.</source>
        <translation>Non è più un amministratore attivo di questo database; acceda di nuovo per continuare.</translation>
    </message>
    <message>
        <source>{name} is the last active administrator. Make another operator an administrator first.</source>
        <translation>{name} è l&apos;ultimo amministratore attivo. Assegni prima il ruolo Amministratore a un altro operatore.</translation>
    </message>
    <message>
        <source>{role} is not an operator role.</source>
        <translation>{role} non è un ruolo di operatore.</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>Non può disabilitare sé stesso; può farlo un altro amministratore.</translation>
    </message>
    <message>
        <source>Only corporate accounts have a representative; {account} is a standard account.</source>
        <translation>Solo gli account Corporate hanno un rappresentante; {account} è un account Standard.</translation>
    </message>
    <message>
        <source>{name} is not a representative. Only operators with the role Representative can be assigned corporate accounts.</source>
        <translation>{name} non è un rappresentante. Gli account Corporate possono essere assegnati solo agli operatori con il ruolo Rappresentante.</translation>
    </message>
    <message>
        <source>{name} is disabled and cannot be assigned accounts.</source>
        <translation>L&apos;operatore {name} è disabilitato: non è possibile assegnargli account.</translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation>Inserisca il Suo nome.</translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation>Il nome può contenere al massimo {max} caratteri.</translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation>la Sua identità di operatore</translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation>Un altro operatore usa già l&apos;email {email}.</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>The payment methods</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>i metodi di pagamento</translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation>Inserisca il nome dell&apos;intestatario del conto.</translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation>Il nome dell&apos;intestatario supera i {max} caratteri.</translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation>La carta {method} è scaduta nel {month:02d}/{year}; aggiunga una nuova carta.</translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation>{country} non è un codice paese di due lettere (es. IT, NL).</translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation>Un campo dell&apos;indirizzo supera i {max} caratteri.</translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation>{method} è l&apos;unico metodo di pagamento dell&apos;account {account}, che paga le sottoscrizioni automaticamente. Aggiunga prima un altro metodo di pagamento o disattivi il pagamento automatico.</translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation>L&apos;account Corporate {account} paga su fattura secondo i suoi termini di pagamento; il pagamento automatico non può essere attivato.</translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation>Aggiunga una carta o un conto bancario all&apos;account {account} prima di attivare il pagamento automatico.</translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation>Il riferimento del pagamento supera i {max} caratteri.</translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation>L&apos;account {account} non ha nulla da pagare.</translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation>L&apos;account {account} è fatturato in {currency}; non è possibile registrare un pagamento in {other}.</translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation>Un pagamento deve essere superiore a zero.</translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the subscription, or None for an overdue event (which concerns the account) the renewal invoice issued (renewals), and its status (``paid`` or ``open``) that invoice&apos;s total the email queued for it (trial ending, trial ended, renewal invoice) renewals: the end of the period (or term) now running; None when none follows overdue events: how many open invoices fell overdue the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None every event processed, in processing order (only with ``advance(details=True)``) ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) the event it is the outcome of (set by ``_Engine._apply``) the email each kind of event queues (when its outcome counts one) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation>Su un database reale i rinnovi possono essere eseguiti solo fino a oggi ({today}), non fino al {date}.</translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation>{product} non è in vendita in {currency}.</translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused), if any: translatable why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text`` when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation>La sicurezza della connessione deve essere Nessuna, STARTTLS o SSL/TLS.</translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation>{host} non è un nome di server valido.</translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>La porta deve essere un numero da 1 a 65535.</translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation>L&apos;indirizzo del mittente {address} non è un indirizzo email valido.</translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation>Una password richiede un nome utente.</translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation>Il timeout deve essere compreso tra 1 e 600 secondi.</translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <translation>Il server {server} ha rifiutato il nome utente o la password ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation>Il server ha rifiutato il destinatario {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation>Il server ha rifiutato l&apos;indirizzo del mittente {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation>Il server {server} non supporta la sicurezza della connessione o l&apos;accesso scelti ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation>Il server {server} ha chiuso la connessione ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation>Il server {server} ha risposto {reply}.</translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation>La connessione sicura a {server} non è riuscita ({detail}).</translation>
    </message>
    <message>
        <source>The email has no recipient address.</source>
        <translation>L&apos;email non ha alcun indirizzo di destinatario.</translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation>Il server {server} non ha risposto entro {seconds} secondi.</translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation>Impossibile trovare il nome del server {host} ({detail}).</translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation>Nessuna risposta da {server}. Verifichi che il server di posta sia in esecuzione e che il nome del server e la porta siano corretti.</translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation>Impossibile connettersi a {server} ({detail}).</translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation>Invio non riuscito ({detail}).</translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation>Inserisca prima il nome del server di posta.</translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation>{address} non è un indirizzo email valido per l&apos;email di prova.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation>La prova gratuita di {product} è terminata. Scelga Abbonati ora per acquistare un piano.</translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation>Abbonati ora è disponibile quando una prova gratuita è terminata; {product} non è una prova terminata.</translation>
    </message>
    <message>
        <source>{database} is not a demo database. Resets, snapshots and new demo data are only for demo databases; it was left unchanged.</source>
        <extracomment>seconds a reset or restore waits for another connection&apos;s write to finish</extracomment>
        <translation>{database} non è un database demo. Reimpostazioni, snapshot e nuovi dati demo sono riservati ai database demo; il database non è stato modificato.</translation>
    </message>
    <message>
        <source>The demo database {database} is busy with another change. Wait until it has finished and try again; nothing was replaced.</source>
        <translation>Il database demo {database} è occupato da un&apos;altra modifica. Attenda che sia terminata e riprovi; non è stato sostituito nulla.</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists.</source>
        <translation>Esiste già uno snapshot denominato “{name}”.</translation>
    </message>
    <message>
        <source>Demo databases and snapshots need a database file; {database} is on a server.</source>
        <translation>I database demo e gli snapshot richiedono un file di database; {database} si trova su un server.</translation>
    </message>
    <message>
        <source>The snapshot “{name}” cannot be restored: its file is missing, damaged or from another version of Billing Desktop. The demo database was left unchanged.</source>
        <translation>Impossibile ripristinare lo snapshot “{name}”: il file manca, è danneggiato o proviene da un&apos;altra versione di Billing Desktop. Il database demo non è stato modificato.</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <extracomment>the &quot;what&quot; of NotFound for a snapshot, translated by the UI</extracomment>
        <translation>Snapshot</translation>
    </message>
    <message>
        <source>Give the snapshot a name.</source>
        <extracomment>the file&apos;s name inside :func:`snapshot_folder` when it was saved (the computer&apos;s clock) the demo&apos;s simulated date at that moment</extracomment>
        <translation>Assegni un nome allo snapshot.</translation>
    </message>
    <message>
        <source>A snapshot name can have at most {max} characters.</source>
        <translation>Il nome di uno snapshot può contenere al massimo {max} caratteri.</translation>
    </message>
    <message>
        <source>This is a real database: it has no simulated time, so its clock cannot be moved. Open a demo database to move the clock.</source>
        <extracomment>how far one move may take the clock: a date years away would run every renewal of every year on the way (and dates near 9999 cannot be computed at all) the events &quot;to next event&quot; stops at (issue 7: renewal, trial end, cancellation end, term end); notices, overdue invoices and data retention happen on the way</extracomment>
        <translation>Questo è un database reale: non ha una data simulata, quindi il suo orologio non può essere spostato. Per spostare l&apos;orologio, apra un database demo.</translation>
    </message>
    <message>
        <source>The clock only moves forward: choose a date after {today}, not {date}.</source>
        <extracomment>what each engine event appears as (a renewal also as an invoice and an email) invoiced (and renewed): the invoice, its status (``paid``/``open``) and total renewed / term renewed: the end of the new period or term (None: the last one) emailed: the email&apos;s kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``), its recipient and row id overdue: how many of the account&apos;s invoices fell overdue that day the date before the move … … the date asked for … … and the date now (the one asked for, unless the run was cancelled midway) the trainer cancelled: what was done until then is kept, the clock stopped at ``clock`` events that failed (left out, retried by the next move) the engine&apos;s own summary (counts) the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order renewals: the total of the invoice it will issue (as things stand now)</extracomment>
        <translation>L&apos;orologio va solo avanti: scelga una data successiva al {today}, non il {date}.</translation>
    </message>
    <message>
        <source>The clock moves at most {years} years at a time: choose a date until {latest}, not {date}.</source>
        <translation>L&apos;orologio può avanzare al massimo di {years} anni alla volta: scelga una data entro il {latest}, non il {date}.</translation>
    </message>
    <message>
        <source>The email address or the password is not correct.</source>
        <extracomment>Seconds every refused attempt waits before it answers. Consecutive wrong passwords that lock the operator. The first lock; each further wrong password doubles it … … up to this. Long passphrases are welcome; this only keeps a pasted file out. OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations. ``app_settings`` key written with the first administrator: a second concurrent :func:`create_first_admin` fails on its primary key.</extracomment>
        <translation>L&apos;indirizzo email o la password non sono corretti.</translation>
    </message>
    <message>
        <source>This operator has been disabled. Ask an administrator to enable it again.</source>
        <translation>Questo operatore è stato disabilitato. Chieda a un amministratore di riabilitarlo.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins. Try again in {minutes} min.</source>
        <translation>Troppi tentativi di accesso non riusciti. Riprovi tra {minutes} min.</translation>
    </message>
    <message>
        <source>This database already has an administrator. Sign in with your email address and password, or ask an administrator to create your operator.</source>
        <translation>Questo database ha già un amministratore. Acceda con il Suo indirizzo email e la Sua password, oppure chieda a un amministratore di registrarLa come operatore.</translation>
    </message>
    <message>
        <source>The password must have at least {min} characters.</source>
        <extracomment>Passwords long enough but guessed first by anyone (folded, without spaces).</extracomment>
        <translation>La password deve contenere almeno {min} caratteri.</translation>
    </message>
    <message>
        <source>The password may have at most {max} characters.</source>
        <translation>La password può contenere al massimo {max} caratteri.</translation>
    </message>
    <message>
        <source>The password must not be the email address.</source>
        <translation>La password non può coincidere con l&apos;indirizzo email.</translation>
    </message>
    <message>
        <source>The password must not be the operator&apos;s name.</source>
        <translation>La password non può coincidere con il nome dell&apos;operatore.</translation>
    </message>
    <message>
        <source>This password is too easy to guess. A few unrelated words make a good password.</source>
        <translation>Questa password è troppo facile da indovinare. Alcune parole senza relazione tra loro formano una buona password.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>&amp;System</source>
        <translation>&amp;Sistema</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>&amp;Chiaro</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>Scu&amp;ro</translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation>L&apos;aspetto e i colori del desktop.</translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation>Testo scuro su sfondo chiaro.</translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation>Testo chiaro su sfondo scuro, più riposante di sera.</translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation>Nessuna (testo in chiaro)</translation>
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
        <translation>Impostazioni</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Pagine delle impostazioni</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Creating the administrator…</source>
        <extracomment>QSettings key: the email of the last operator who signed in on this computer the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts the machine&apos;s time (whole seconds, as the services&apos; system clock) the signed-in operator once the dialog accepted</extracomment>
        <translation>Creazione dell&apos;amministratore…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Accesso in corso…</translation>
    </message>
    <message>
        <source>Enter your name, email address and a password.</source>
        <translation>Inserisca il Suo nome, l&apos;indirizzo email e una password.</translation>
    </message>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <translation>Le due password non coincidono; la digiti di nuovo.</translation>
    </message>
    <message>
        <source>Enter your email address and password.</source>
        <translation>Inserisca il Suo indirizzo email e la password.</translation>
    </message>
    <message>
        <source>The database server did not answer. Check the network connection and try again.</source>
        <translation>Il server di database non ha risposto. Controlli la connessione di rete e riprovi.</translation>
    </message>
    <message>
        <source>Sign In — Billing Desktop</source>
        <translation>Accesso — Billing Desktop</translation>
    </message>
    <message>
        <source>Set up the first administrator</source>
        <translation>Configurazione del primo amministratore</translation>
    </message>
    <message>
        <source>Nobody can sign in to this shared database yet. Create the first administrator: you sign in with this email address and password, and can then add the other operators.</source>
        <translation>Nessuno può ancora accedere a questo database condiviso. Crei il primo amministratore: accederà con questo indirizzo email e questa password e potrà poi aggiungere gli altri operatori.</translation>
    </message>
    <message>
        <source>Create &amp;Administrator</source>
        <translation>Crea &amp;amministratore</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Accedi</translation>
    </message>
    <message>
        <source>This database is shared by a team. Sign in with your operator account.</source>
        <translation>Questo database è condiviso da un team. Acceda con le Sue credenziali di operatore.</translation>
    </message>
    <message>
        <source>&amp;Sign In</source>
        <translation>&amp;Accedi</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Database: {name}</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nome:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;Indirizzo email:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Password:</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>Con&amp;ferma password:</translation>
    </message>
    <message>
        <source>At least {count} characters, not your email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Almeno {count} caratteri, diversa dal Suo indirizzo email. Alcune parole senza relazione tra loro formano una buona password, facile da ricordare.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
</context>
<context>
    <name>SmtpPage</name>
    <message>
        <source>Mail server</source>
        <translation>Server di posta</translation>
    </message>
    <message>
        <source>Billing Desktop test email</source>
        <translation>Email di prova di Billing Desktop</translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation>Questa è un&apos;email di prova inviata da Billing Desktop.

Se è arrivata, le impostazioni del server di posta funzionano: le email ai clienti verranno inviate tramite {server}.</translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation>Invio dell&apos;email di prova…</translation>
    </message>
    <message>
        <source>Test email</source>
        <translation>Email di prova</translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation>Invio di un&apos;email di prova a {address}…</translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation>L&apos;email di prova è stata inviata a {address}. Verifichi che sia arrivata.</translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation>Invio di prova annullato.</translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation>Corregga le impostazioni qui sopra, quindi invii di nuovo l&apos;email di prova.</translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation>Server di posta (SMTP)</translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation>&amp;Server:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Porta:</translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation>Si&amp;curezza:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>&amp;Nome utente:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Pass&amp;word:</translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation>&amp;Indirizzo mittente:</translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation>&amp;Timeout:</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation> s</translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation>Lasci vuoto per conservare le email nella posta in uscita, senza inviarle.</translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation>vuoto se il server non richiede l&apos;accesso</translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation>Il Suo ruolo non consente di modificare il server di posta; si rivolga a un amministratore.</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Invio di prova</translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation>Invi&amp;a a:</translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation>Invia email di pr&amp;ova</translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation>Invia un&apos;email con le impostazioni qui sopra, salvate o meno</translation>
    </message>
</context>
<context>
    <name>SnapshotsDialog</name>
    <message>
        <source>Save Current State</source>
        <extracomment>a value to sort by (text, datetime or ISO date) a snapshot was restored into the open database (carries its ``SnapshotInfo``)</extracomment>
        <translation>Salva stato attuale</translation>
    </message>
    <message>
        <source>Name of the snapshot:</source>
        <translation>Nome dello snapshot:</translation>
    </message>
    <message>
        <source>State on {date}</source>
        <translation>Stato al {date}</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Salva</translation>
    </message>
    <message>
        <source>Saved the snapshot “{name}”.</source>
        <translation>Snapshot “{name}” salvato.</translation>
    </message>
    <message>
        <source>Replace Snapshot</source>
        <translation>Sostituisci snapshot</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists. Replace it with the current state?</source>
        <translation>Esiste già uno snapshot denominato “{name}”. Sostituirlo con lo stato attuale?</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Sostituisci</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot. The simulated date goes back to {date}.</source>
        <translation>Tutto ciò che è stato fatto dopo il salvataggio andrà perso, a meno che non sia in un altro snapshot. La data simulata torna al {date}.</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot.</source>
        <translation>Tutto ciò che è stato fatto dopo il salvataggio andrà perso, a meno che non sia in un altro snapshot.</translation>
    </message>
    <message>
        <source>Restore Snapshot</source>
        <translation>Ripristina snapshot</translation>
    </message>
    <message>
        <source>Return the demo database to the snapshot “{name}”?</source>
        <translation>Riportare il database demo allo snapshot “{name}”?</translation>
    </message>
    <message>
        <source>&amp;Restore</source>
        <translation>&amp;Ripristina</translation>
    </message>
    <message>
        <source>Delete Snapshot</source>
        <translation>Elimina snapshot</translation>
    </message>
    <message>
        <source>Delete the snapshot “{name}”?</source>
        <translation>Eliminare lo snapshot “{name}”?</translation>
    </message>
    <message>
        <source>The demo database itself does not change.</source>
        <translation>Il database demo non viene modificato.</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Elimina</translation>
    </message>
    <message>
        <source>Deleted the snapshot “{name}”.</source>
        <translation>Snapshot “{name}” eliminato.</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>Snapshot</translation>
    </message>
    <message>
        <source>A snapshot keeps the demo database as it is now, so you can return to it and repeat a scene.</source>
        <translation>Uno snapshot conserva il database demo così com&apos;è ora, per poterci tornare e ripetere una scena.</translation>
    </message>
    <message>
        <source>No snapshots yet. Save the current state to come back to it later.</source>
        <translation>Ancora nessuno snapshot. Salvi lo stato attuale per tornarci in seguito.</translation>
    </message>
    <message>
        <source>&amp;Save Current State…</source>
        <translation>&amp;Salva stato attuale…</translation>
    </message>
    <message>
        <source>Only administrators and trainers can save and restore snapshots.</source>
        <translation>Solo gli amministratori e i formatori possono salvare e ripristinare gli snapshot.</translation>
    </message>
</context>
<context>
    <name>SnapshotsModel</name>
    <message>
        <source>Name</source>
        <translation>Nome</translation>
    </message>
    <message>
        <source>Taken</source>
        <translation>Salvato</translation>
    </message>
    <message>
        <source>Simulated date</source>
        <translation>Data simulata</translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation>Nessun rimborso: quanto già fatturato non viene rimborsato e i prodotti restano utilizzabili fino alle date indicate sopra.</translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation>La prova termina semplicemente il {date}; non viene fatturato nulla.</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>Annullato prima della fine del contratto, i mesi rimanenti vengono comunque fatturati: il periodo in corso, già fatturato, e %n altro mese su una fattura di recesso anticipato. Resta attivo fino alla data di fine originaria, il {date}.</numerusform>
            <numerusform>Annullato prima della fine del contratto, i mesi rimanenti vengono comunque fatturati: il periodo in corso, già fatturato, e altri %n mesi su una fattura di recesso anticipato. Resta attivo fino alla data di fine originaria, il {date}.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation>Annullato nel corso dell&apos;anno, viene fatturato l&apos;intero anno (fatturato all&apos;inizio) e resta attivo fino al {date}.</translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation>Annullato a metà mese, viene fatturato l&apos;intero mese (fatturato all&apos;inizio) e resta attivo fino alla fine del mese, il {date}.</translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n mese</numerusform>
            <numerusform>%n mesi</numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation>Contratto:</translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation>Periodo in corso:</translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation>Periodo in corso, già fatturato:</translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation>Mesi rimanenti, fatturati ora:</translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation>Mesi ancora fatturati:</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Ancora fatturato:</translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation>Attivo fino al:</translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation>Rimborso:</translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation>Dati eliminati il:</translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation>Totale ancora fatturato:</translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation>Fatturato ora per i mesi rimanenti (netto):</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Fattura di recesso anticipato:</translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation>Nessuna: non viene fatturato altro.</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (inversione contabile)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation>Totale della fattura di recesso anticipato:</translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation>Credito dell&apos;account utilizzato:</translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation>Dovuto ora:</translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation>Cosa verrà ancora fatturato</translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation>Passaggio 5 di 6: cosa paga ancora il cliente e fino a quando il prodotto resta attivo.</translation>
    </message>
    <message>
        <source>In total</source>
        <translation>In totale</translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>&amp;Edit subscription</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow.</extracomment>
        <translation>&amp;Modifica sottoscrizione</translation>
    </message>
    <message>
        <source>&amp;Cancel subscription</source>
        <translation>&amp;Annulla sottoscrizione</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Riattiva</translation>
    </message>
    <message>
        <source>&amp;Subscribe now</source>
        <translation>&amp;Abbonati ora</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>Prova</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prova terminata</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Attivo</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Annullamento in sospeso</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Annullato</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensile</translation>
    </message>
    <message>
        <source>Annually</source>
        <translation>Annuale</translation>
    </message>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation>Scade il {date}</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Opzioni</translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation>Opzioni per {product}</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Piano</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licenze</translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation>{assigned} assegnate su {total}</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frequenza di fatturazione</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>Contratto</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Componenti aggiuntivi</translation>
    </message>
    <message>
        <source>{product}, {status}</source>
        <translation>{product}, {status}</translation>
    </message>
    <message>
        <source>Press Space or Enter for the options.</source>
        <translation>Prema Spazio o Invio per le opzioni.</translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation>Durata fissa di {months} mesi, termina il {date}</translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation>Durata fissa, termina il {date}</translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation>Senza vincolo di durata</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>Fine della prova</translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation>Prova terminata il</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Terminata il</translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation>Prossima data di fatturazione</translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation>Nessuna: non si rinnova</translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation>Il termine di preavviso è scaduto il {deadline}: il contratto si rinnova per un altro periodo il {end}.</translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation>Il contratto si rinnova il {end}, salvo disdetta entro il {deadline}.</translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation>Questo account non ha ancora sottoscrizioni.</translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Carrello: %n articolo</numerusform>
            <numerusform>Carrello: %n articoli</numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Scopri altri prodotti</translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation>Prodotti che questo account ha annullato o non ha mai acquistato.</translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation>Visualizza &amp;carrello</translation>
    </message>
</context>
<context>
    <name>ThemePage</name>
    <message>
        <source>Theme</source>
        <translation>Tema</translation>
    </message>
</context>
<context>
    <name>UpcomingPanel</name>
    <message>
        <source>Renewal</source>
        <extracomment>rows listed (the next events, earliest first) what each engine event is called in the panel (``EventKind`` values)</extracomment>
        <translation>Rinnovo</translation>
    </message>
    <message>
        <source>Contract term ends and renews</source>
        <translation>Fine e rinnovo del contratto</translation>
    </message>
    <message>
        <source>Cancellation takes effect</source>
        <translation>Annullamento effettivo</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fine della prova</translation>
    </message>
    <message>
        <source>“Trial ending” email</source>
        <translation>Email “Prova in scadenza”</translation>
    </message>
    <message>
        <source>Invoice falls overdue</source>
        <translation>Fattura scaduta</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Dati contrassegnati per l&apos;eliminazione</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Data</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Evento</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Azienda</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Prodotto</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importo</translation>
    </message>
    <message>
        <source>Invoice {number} falls overdue</source>
        <translation>La fattura {number} risulta scaduta</translation>
    </message>
    <message>
        <source>The renewal invoice&apos;s total as the subscription stands today</source>
        <translation>Il totale della fattura di rinnovo in base alla sottoscrizione attuale</translation>
    </message>
    <message>
        <source>Nothing is due after {date}.</source>
        <extracomment>a row was activated: the account&apos;s id set once the panel has data (or tried); reloads are explicit after that</extracomment>
        <translation>Nessuna operazione in scadenza dopo il {date}.</translation>
    </message>
    <message>
        <source>What the next moves of the clock will do, after {date}:</source>
        <translation>Cosa succederà ai prossimi spostamenti dell&apos;orologio, dopo il {date}:</translation>
    </message>
    <message>
        <source>Upcoming Events</source>
        <translation>Prossimi eventi</translation>
    </message>
    <message>
        <source>&amp;Upcoming Events</source>
        <translation>Prossimi &amp;eventi</translation>
    </message>
    <message>
        <source>Show what the next moves of the simulated clock will do</source>
        <translation>Mostra cosa succederà ai prossimi spostamenti dell&apos;orologio simulato</translation>
    </message>
    <message>
        <source>Upcoming events</source>
        <translation>Prossimi eventi</translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the versions of the selected subscriptions, read just before the checklist page&apos;s checklist (what &quot;Unassign all&quot; sends: optimistic locking) the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation>{mark} Corrisponde</translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation>{mark} {sentence}</translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation>{mark} Il chiamante è verificato ({time}). Prosegua con Successivo.</translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation>Impossibile verificare il chiamante; dati non corrispondenti: {fields}.</translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>%n tentativo di verifica non riuscito. L&apos;evento è stato registrato nell&apos;attività dell&apos;account. Non proceda: chieda all&apos;amministratore fatturazione di richiamare.</numerusform>
            <numerusform>%n tentativi di verifica consecutivi non riusciti. L&apos;evento è stato registrato nell&apos;attività dell&apos;account. Non proceda: chieda all&apos;amministratore fatturazione di richiamare.</numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation>Tentativo {attempt} di {limit} non riuscito. Verifichi i dati con il chiamante.</translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation>L&apos;ID account non corrisponde.</translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation>Questa non è l&apos;email di un amministratore fatturazione dell&apos;account.</translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation>Nessuna carta o conto bancario registrato termina con queste cifre.</translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation>L&apos;indirizzo di fatturazione non corrisponde a quello del metodo di pagamento.</translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation>Il CAP non corrisponde a quello del metodo di pagamento.</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Verifica del chiamante</translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation>Passaggio 1 di 6: prima di tutto, si assicuri che il chiamante sia chi dice di essere.</translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation>Chieda al chiamante questi dati e digiti ciò che riferisce. Vengono confrontati con l&apos;account {account}; viene registrato solo se ciascun dato corrisponde, mai ciò che è stato detto.</translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation>&amp;ID account:</translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation>&amp;Email dell&apos;amministratore fatturazione:</translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation>&amp;Ultime quattro cifre del metodo di pagamento:</translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation>In&amp;dirizzo di fatturazione (via e numero civico):</translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation>&amp;CAP dell&apos;indirizzo di fatturazione:</translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation>es. A-100001</translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation>4 cifre</translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation>&amp;Verifica chiamante</translation>
    </message>
</context>
<context>
    <name>Walkthroughs</name>
    <message>
        <source>{account} was not opened: the account shown has unsaved changes.</source>
        <extracomment>conditions that are states: they count when they already hold as the step becomes current the English source sentence (context &quot;Walkthroughs&quot;) with {placeholders} what &quot;Show me&quot; points at: an objectName path, alternatives separated by &quot;|&quot; (the first one on screen wins); ``{product}`` is the walkthrough&apos;s product the warning&apos;s English source (&quot;&quot; when the scene is ready) what the service said: the card&apos;s reason, or the error reading the cards</extracomment>
        <translation>{account} non è stato aperto: l&apos;account visualizzato ha modifiche non salvate.</translation>
    </message>
    <message>
        <source>{account} no longer shows this scene. Reset the demo database to play it again.</source>
        <translation>{account} non presenta più questa scena. Reimposti il database demo per ripeterla.</translation>
    </message>
    <message>
        <source>Open {company} ({account}) on its Subscriptions tab: one card per product, as on the Subscriptions page of the Billing Center.</source>
        <extracomment>the seed article (&quot;000&quot;); the curated account whose scenario starts with &quot;Article 000&quot; tells the story the catalog code of the product the story is about the card action the scene needs (&quot;cancel&quot;, &quot;edit&quot;, &quot;subscribe&quot;): when the account&apos;s card no longer offers it, Prepare says so the account page&apos;s tab Prepare opens</extracomment>
        <translation>Apra {company} ({account}) sulla scheda Sottoscrizioni: un riquadro per prodotto, come nella pagina Sottoscrizioni del Centro fatturazione.</translation>
    </message>
    <message>
        <source>Click the options icon (⋮) in the top-right corner of the {product} card.</source>
        <translation>Faccia clic sull&apos;icona delle opzioni (⋮) nell&apos;angolo superiore destro del riquadro di {product}.</translation>
    </message>
    <message>
        <source>Cancel a subscription online</source>
        <translation>Annullare una sottoscrizione online</translation>
    </message>
    <message>
        <source>Help article 000: the billing contact of {company} ({account}) stops the automatic renewal of {product}.</source>
        <translation>Articolo di assistenza 000: il contatto di fatturazione di {company} ({account}) disattiva il rinnovo automatico di {product}.</translation>
    </message>
    <message>
        <source>The card now says Cancellation pending. Until the plan expires, Reactivate in the options menu keeps it. A free trial without billing information needs none of this: it simply expires.</source>
        <translation>Il riquadro ora indica Annullamento in sospeso. Fino alla scadenza del piano, Riattiva nel menu delle opzioni permette di mantenerlo. Una prova gratuita senza dati di fatturazione non richiede nulla di tutto questo: scade semplicemente.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription.</source>
        <translation>Scelga Annulla sottoscrizione.</translation>
    </message>
    <message>
        <source>Go through the confirmation with the customer: the plan stays active until the end of the paid period and is then not renewed. Choose who asks and why, then click Yes, cancel.</source>
        <translation>Verifichi con il cliente le informazioni di conferma: il piano resta attivo fino alla fine del periodo pagato e poi non viene rinnovato. Indichi chi fa la richiesta e il motivo, quindi faccia clic su Sì, annulla.</translation>
    </message>
    <message>
        <source>The result shows the expiry date and the confirmation email sent to the billing contact. Click Close.</source>
        <translation>Il risultato mostra la data di scadenza e l&apos;email di conferma inviata al contatto di fatturazione. Faccia clic su Chiudi.</translation>
    </message>
    <message>
        <source>Remove user licences</source>
        <translation>Rimuovere licenze utente</translation>
    </message>
    <message>
        <source>Help article 001: {company} ({account}) pays for more {product} licences than it needs and removes some.</source>
        <translation>Articolo di assistenza 001: {company} ({account}) paga più licenze di {product} del necessario e ne rimuove alcune.</translation>
    </message>
    <message>
        <source>The change took effect at once: the unused days of the removed licences became a credit on the account, and the billing date moved to today.</source>
        <translation>La modifica ha avuto effetto immediato: i giorni non utilizzati delle licenze rimosse sono diventati credito dell&apos;account e la data di fatturazione è stata spostata a oggi.</translation>
    </message>
    <message>
        <source>Choose Edit subscription: the checkout opens on the current plan.</source>
        <translation>Scelga Modifica sottoscrizione: la procedura di acquisto si apre sul piano attuale.</translation>
    </message>
    <message>
        <source>Lower the number of licences (not below those assigned to users) and click Add to cart.</source>
        <translation>Riduca il numero di licenze (non al di sotto di quelle assegnate agli utenti) e faccia clic su Aggiungi al carrello.</translation>
    </message>
    <message>
        <source>The cart shows the change. Click Checkout.</source>
        <translation>Il carrello mostra la modifica. Faccia clic su Completa la transazione.</translation>
    </message>
    <message>
        <source>On Complete transaction, check the billing period (it starts today), the licences, the plan price, the credit for the unused days and the total, then click Place order.</source>
        <translation>Nella pagina Completa la transazione verifichi il periodo di fatturazione (inizia oggi), le licenze, il prezzo del piano, il credito per i giorni non utilizzati e il totale, quindi faccia clic su Effettua ordine.</translation>
    </message>
    <message>
        <source>The result shows the new billing date and the confirmation email. Click Close.</source>
        <translation>Il risultato mostra la nuova data di fatturazione e l&apos;email di conferma. Faccia clic su Chiudi.</translation>
    </message>
    <message>
        <source>Cancel through support</source>
        <translation>Annullare tramite l&apos;assistenza</translation>
    </message>
    <message>
        <source>Help article 002: {product} is cancelled only through support. A billing admin of {company} ({account}) calls to cancel it.</source>
        <translation>Articolo di assistenza 002: {product} si può annullare solo tramite l&apos;assistenza. Un amministratore fatturazione di {company} ({account}) chiama per annullarlo.</translation>
    </message>
    <message>
        <source>The card says Cancellation pending: {product} stays active, and billed, until the agreement ends, and then moves to Discover other products.</source>
        <translation>Il riquadro indica Annullamento in sospeso: {product} resta attivo, e viene fatturato, fino alla fine del contratto, poi passa in Scopri altri prodotti.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription: {product} cannot be cancelled online, so the assisted cancellation opens.</source>
        <translation>Scelga Annulla sottoscrizione: {product} non può essere annullato online, quindi si apre l&apos;annullamento assistito.</translation>
    </message>
    <message>
        <source>Verify the caller: enter the account ID, the billing admin&apos;s email, the last four digits of the payment card and its billing address as the caller gives them, click Verify, then Next.</source>
        <translation>Verifichi il chiamante: inserisca l&apos;ID account, l&apos;email dell&apos;amministratore fatturazione, le ultime quattro cifre della carta di pagamento e il relativo indirizzo di fatturazione come li riferisce il chiamante, faccia clic su Verifica chiamante, poi su Successivo.</translation>
    </message>
    <message>
        <source>Choose who is asking: only a super admin or a billing admin may ask to cancel. Click Next.</source>
        <translation>Scelga chi fa la richiesta: solo un super amministratore o un amministratore fatturazione può chiedere l&apos;annullamento. Faccia clic su Successivo.</translation>
    </message>
    <message>
        <source>Before you cancel: pay the open balance, unassign the licences and export the account&apos;s data (or confirm that the caller has a backup) until every item is ticked, then click Next.</source>
        <translation>Prima di annullare: paghi il saldo aperto, revochi le licenze ed esporti i dati dell&apos;account (o confermi che il chiamante ha un backup) finché tutte le voci non sono spuntate, quindi faccia clic su Successivo.</translation>
    </message>
    <message>
        <source>Check what will be cancelled and click Next.</source>
        <translation>Verifichi cosa verrà annullato e faccia clic su Successivo.</translation>
    </message>
    <message>
        <source>Tell the caller what is still billed: the agreement stays active, and is billed, until its end date, without a refund. Click Next.</source>
        <translation>Comunichi al chiamante cosa viene ancora fatturato: il contratto resta attivo, e viene fatturato, fino alla data di scadenza, senza rimborso. Faccia clic su Successivo.</translation>
    </message>
    <message>
        <source>Choose the reason and click Cancel subscriptions.</source>
        <translation>Scelga il motivo e faccia clic su Annulla sottoscrizioni.</translation>
    </message>
    <message>
        <source>The result lists what was cancelled, the invoice for the rest of the agreement and the confirmation email. Click Close.</source>
        <translation>Il risultato elenca cosa è stato annullato, la fattura per il resto del contratto e l&apos;email di conferma. Faccia clic su Chiudi.</translation>
    </message>
    <message>
        <source>Subscribe when the free trial ends</source>
        <translation>Abbonarsi al termine della prova gratuita</translation>
    </message>
    <message>
        <source>Help article 003: the {product} trial of {company} ({account}) ended without a charge. The billing contact turns it into a paid plan.</source>
        <translation>Articolo di assistenza 003: la prova di {product} di {company} ({account}) è terminata senza addebiti. Il contatto di fatturazione la converte in un piano a pagamento.</translation>
    </message>
    <message>
        <source>The plan is active from today and the Users &amp; licences tab is open to assign the seats. A trial that nobody converts simply expires, without a charge.</source>
        <translation>Il piano è attivo da oggi e la scheda Utenti e licenze è aperta per assegnare le licenze. Una prova che nessuno converte scade semplicemente, senza addebiti.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended: its card says Trial ended and offers Subscribe now. Click Subscribe now.</source>
        <translation>La prova gratuita di {product} è terminata: il riquadro indica Prova terminata e offre Abbonati ora. Faccia clic su Abbonati ora.</translation>
    </message>
    <message>
        <source>Change the plan tier, the number of licences or the billing frequency if you like, then click Checkout.</source>
        <translation>Se lo desidera, modifichi il livello del piano, il numero di licenze o la frequenza di fatturazione, quindi faccia clic su Completa la transazione.</translation>
    </message>
    <message>
        <source>Review the order on Complete transaction (Edit order goes back to change it) and click Checkout.</source>
        <translation>Controlli l&apos;ordine nella pagina Completa la transazione (Modifica ordine torna indietro per cambiarlo) e faccia clic su Completa la transazione.</translation>
    </message>
    <message>
        <source>Enter the payment card and the account&apos;s VAT number, then click Place order.</source>
        <translation>Inserisca la carta di pagamento e la partita IVA dell&apos;account, quindi faccia clic su Effettua ordine.</translation>
    </message>
    <message>
        <source>The result confirms the purchase. Click Assign licences now to give the new seats to users.</source>
        <translation>Il risultato conferma l&apos;acquisto. Faccia clic su Assegna le licenze ora per attribuire le nuove licenze agli utenti.</translation>
    </message>
    <message>
        <source>Change the plan</source>
        <translation>Cambiare il piano</translation>
    </message>
    <message>
        <source>Help article 004: {company} ({account}) upgrades {product} to a higher tier, more licences or another billing period.</source>
        <translation>Articolo di assistenza 004: {company} ({account}) passa a un livello superiore di {product}, aggiunge licenze o cambia il periodo di fatturazione.</translation>
    </message>
    <message>
        <source>The new plan applies from today and the rest of the old period was prorated. A lower tier is not offered online: the wizard says to contact Customer Care.</source>
        <translation>Il nuovo piano è valido da oggi e il resto del periodo precedente è stato calcolato pro rata. Un livello inferiore non è disponibile online: la procedura guidata indica di contattare l&apos;Assistenza clienti.</translation>
    </message>
    <message>
        <source>Choose Edit subscription.</source>
        <translation>Scelga Modifica sottoscrizione.</translation>
    </message>
    <message>
        <source>Choose a higher plan tier, more licences or another billing frequency, check the order summary at the bottom of the page and click Checkout.</source>
        <translation>Scelga un livello del piano superiore, più licenze o un&apos;altra frequenza di fatturazione, verifichi il riepilogo dell&apos;ordine in fondo alla pagina e faccia clic su Completa la transazione.</translation>
    </message>
    <message>
        <source>Check the billing period (it starts today), the licences, the prices and the total. Click Checkout, confirm the payment method if the new plan costs more, and click Place order.</source>
        <translation>Verifichi il periodo di fatturazione (inizia oggi), le licenze, i prezzi e il totale. Faccia clic su Completa la transazione, confermi il metodo di pagamento se il nuovo piano costa di più e faccia clic su Effettua ordine.</translation>
    </message>
    <message>
        <source>The result shows the new plan and billing date. Click Close.</source>
        <translation>Il risultato mostra il nuovo piano e la nuova data di fatturazione. Faccia clic su Chiudi.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation>Benvenuto in Billing Desktop</translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation>Billing Desktop gestisce gli account dei clienti, con le relative sottoscrizioni, licenze e fatture. Questo database è nuovo e non contiene ancora account: esplori prima l&apos;applicazione con clienti di esempio, oppure inizi subito a lavorare.</translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation>Database: {path}</translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation>Apri il database demo</translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation>Account di esempio in un file separato, con un orologio simulato che può far avanzare. Questo database resta vuoto.</translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation>Inizia con un database vuoto</translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation>Apre l&apos;elenco degli account per iniziare a lavorare in questo database.</translation>
    </message>
</context>
<context>
    <name>_ClockMenu</name>
    <message>
        <source>Simulated &amp;Clock</source>
        <translation>&amp;Orologio simulato</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Day</source>
        <translation>Avanza di un &amp;giorno</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Month</source>
        <translation>Avanza di un &amp;mese</translation>
    </message>
    <message>
        <source>Move to the &amp;Next Event</source>
        <translation>Vai al &amp;prossimo evento</translation>
    </message>
    <message>
        <source>Move to a D&amp;ate…</source>
        <translation>Vai a una &amp;data…</translation>
    </message>
</context>
</TS>
