<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AccountsView</name>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n account exported.</numerusform>
            <numerusform>%n accounts exported.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln account</numerusform>
            <numerusform>%Ln accounts</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>Take back the %n licence of {products} from its user?</numerusform>
            <numerusform>Take back all %n licences of {products} from their users?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>%n licence was unassigned.</numerusform>
            <numerusform>%n licences were unassigned.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licence (was {old})</numerusform>
            <numerusform>%n licences (was {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licence</numerusform>
            <numerusform>%n licences</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>And %n more event that day.</numerusform>
            <numerusform>And %n more events that day.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n invoice fell overdue</numerusform>
            <numerusform>%n invoices fell overdue</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… and %n more</numerusform>
            <numerusform>… and %n more</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>%n event failed and will be retried</numerusform>
            <numerusform>%n events failed and will be retried</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n subscription renewed</numerusform>
            <numerusform>%n subscriptions renewed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n trial expired</numerusform>
            <numerusform>%n trials expired</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n subscription cancelled</numerusform>
            <numerusform>%n subscriptions cancelled</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n invoice issued, {total} in all</numerusform>
            <numerusform>%n invoices issued, {total} in all</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n email queued for the customers</numerusform>
            <numerusform>%n emails queued for the customers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n contract term renewed</numerusform>
            <numerusform>%n contract terms renewed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n subscription marked for data deletion</numerusform>
            <numerusform>%n subscriptions marked for data deletion</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n event processed.</numerusform>
            <numerusform>%n events processed.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Open invoices (%n)</numerusform>
            <numerusform>Open invoices (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Paid invoices (%n)</numerusform>
            <numerusform>Paid invoices (%n)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>&amp;Pending cancellations (%Ln)</numerusform>
            <numerusform>&amp;Pending cancellations (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>&amp;Renewals in the next {days} days (%Ln)</numerusform>
            <numerusform>&amp;Renewals in the next {days} days (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>%Ln more not shown</numerusform>
            <numerusform>%Ln more not shown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n email</numerusform>
            <numerusform>%n emails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n email, {failed} failed</numerusform>
            <numerusform>%n emails, {failed} failed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Failed after %n attempt: {error}</numerusform>
            <numerusform>Failed after %n attempts: {error}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Failed after %n attempt: {error}</numerusform>
            <numerusform>Failed after %n attempts: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>Pending since {when}; %n earlier attempt failed: {error}</numerusform>
            <numerusform>Pending since {when}; %n earlier attempts failed: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln email</numerusform>
            <numerusform>%Ln emails</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n email will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</numerusform>
            <numerusform>%n emails will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>Sending %n email to the mail server…</numerusform>
            <numerusform>Sending %n emails to the mail server…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>The mail server could not be used, so %n email stays in the outbox and will be tried again later. The server said: {error}</numerusform>
            <numerusform>The mail server could not be used, so %n emails stay in the outbox and will be tried again later. The server said: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n email sent.</numerusform>
            <numerusform>%n emails sent.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n email sent; {failed} refused by the server (see Last error).</numerusform>
            <numerusform>%n emails sent; {failed} refused by the server (see Last error).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>%n step done.</numerusform>
            <numerusform>All %n steps done.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>&amp;Open invoices (%n)</numerusform>
            <numerusform>&amp;Open invoices (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>P&amp;aid invoices (%n)</numerusform>
            <numerusform>P&amp;aid invoices (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n invoice paid: {numbers}.</numerusform>
            <numerusform>%n invoices paid: {numbers}.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (+%n more)</numerusform>
            <numerusform>{description} (+%n more)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln invoice</numerusform>
            <numerusform>%Ln invoices</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n too many for {licences} licences</numerusform>
            <numerusform>%n too many for {licences} licences</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n of {licences} free</numerusform>
            <numerusform>%n of {licences} free</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n change not applied yet</numerusform>
            <numerusform>%n changes not applied yet</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Pays by invoice (net %n day)</numerusform>
            <numerusform>Pays by invoice (net %n days)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Your cart holds %n product.</numerusform>
            <numerusform>Your cart holds %n products.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n licence assigned to users</numerusform>
            <numerusform>%n licences assigned to users</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>QuickSearchDialog</name>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>The first %n account found. Type more to narrow the search.</numerusform>
            <numerusform>The first %n accounts found. Type more to narrow the search.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n account found. Enter opens it.</numerusform>
            <numerusform>%n accounts found. Enter opens the selected one.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ResultPage</name>
    <message numerus="yes">
        <source>%n item(s) cancelled. Auto-renewal is off.</source>
        <translation>
            <numerusform>%n item cancelled. Auto-renewal is off.</numerusform>
            <numerusform>%n items cancelled. Auto-renewal is off.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n confirmation email sent to {email}</numerusform>
            <numerusform>%n confirmation emails sent to {email}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licence (was {old})</numerusform>
            <numerusform>%n licences (was {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licence</numerusform>
            <numerusform>%n licences</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n licence</numerusform>
            <numerusform>{product} {plan}, %n licences</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month on an early-termination invoice. It stays active until the original end date, {date}.</numerusform>
            <numerusform>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more months on an early-termination invoice. It stays active until the original end date, {date}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n month</numerusform>
            <numerusform>%n months</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Cart: %n item</numerusform>
            <numerusform>Cart: %n items</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>%n verification attempt in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</numerusform>
            <numerusform>%n verification attempts in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</numerusform>
        </translation>
    </message>
</context>
</TS>
