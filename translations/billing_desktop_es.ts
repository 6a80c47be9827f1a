<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es">
<context>
    <name>AccountPage</name>
    <message>
        <source>Overview</source>
        <extracomment>The tabs, in order.</extracomment>
        <translation>Resumen</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Suscripciones</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturas</translation>
    </message>
    <message>
        <source>Users &amp; licences</source>
        <translation>Usuarios y licencias</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <translation>Métodos de pago</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Actividad</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>Correos</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <extracomment>Badge colours (background, text, border); the word, not the colour, carries the meaning. The user asked to go back to the accounts list.</extracomment>
        <translation>Cambios sin guardar</translation>
    </message>
    <message>
        <source>The changes to account {account} are not saved. Discard them?</source>
        <translation>Los cambios en la cuenta {account} no se han guardado. ¿Desea descartarlos?</translation>
    </message>
    <message>
        <source>Balance due: {amount}</source>
        <translation>Importe pendiente: {amount}</translation>
    </message>
    <message>
        <source>Nothing due</source>
        <translation>Nada pendiente</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Saldo a favor: {amount}</translation>
    </message>
    <message>
        <source>Account {account}, {company}</source>
        <translation>Cuenta {account}, {company}</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Cuentas</translation>
    </message>
    <message>
        <source>Back to the accounts list (Alt+Left)</source>
        <translation>Volver a la lista de cuentas (Alt+Izquierda)</translation>
    </message>
    <message>
        <source>Back to the accounts list</source>
        <translation>Volver a la lista de cuentas</translation>
    </message>
    <message>
        <source>Alt+{number}</source>
        <translation>Alt+{number}</translation>
    </message>
    <message>
        <source>Account tabs</source>
        <translation>Pestañas de la cuenta</translation>
    </message>
</context>
<context>
    <name>AccountsTableModel</name>
    <message>
        <source>Standard</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Estándar</translation>
    </message>
    <message>
        <source>Corporate</source>
        <translation>Corporativa</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Activa</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Caducada</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Cerrada</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Con impagos</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de cuenta</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>País</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Representante</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Suscripciones</translation>
    </message>
    <message>
        <source>Balance</source>
        <translation>Saldo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Subscriptions in trial, active or pending cancellation</source>
        <translation>Suscripciones en prueba, activas o con cancelación pendiente</translation>
    </message>
    <message>
        <source>Amount due on open invoices</source>
        <translation>Importe pendiente de las facturas abiertas</translation>
    </message>
    <message>
        <source>Overdue: an open invoice is past its due date</source>
        <translation>Con impagos: una factura abierta ha superado su fecha de vencimiento</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <source>All countries</source>
        <extracomment>Typing pause before the filter is applied, in milliseconds. Narrowest the text filter and the filter combos get in a small window (pixels). The user chose an account (double-click or Enter); carries the account id. The empty-database hint&apos;s &quot;open the demo database&quot; link was clicked. An export finished: the file written and the number of accounts in it. the operator&apos;s own id when they are a representative (&quot;My accounts&quot;) says how the last export went (hidden until there was one)</extracomment>
        <translation>Todos los países</translation>
    </message>
    <message>
        <source>Export accounts</source>
        <translation>Exportar cuentas</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Archivos CSV (*.csv)</translation>
    </message>
    <message>
        <source>Writing the accounts to {file}…</source>
        <translation>Escribiendo las cuentas en {file}…</translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) exported.</source>
        <translation>
            <numerusform>%n cuenta exportada.</numerusform>
            <numerusform>%n cuentas exportadas.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln account(s)</source>
        <translation>
            <numerusform>%Ln cuenta</numerusform>
            <numerusform>%Ln cuentas</numerusform>
        </translation>
    </message>
    <message>
        <source>No accounts match the filter.</source>
        <translation>Ninguna cuenta coincide con el filtro.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Quitar todos los filtros</translation>
    </message>
    <message>
        <source>This database has no accounts yet.</source>
        <translation>Esta base de datos todavía no tiene cuentas.</translation>
    </message>
    <message>
        <source>Accounts appear here as soon as they are created or imported.</source>
        <translation>Las cuentas aparecen aquí en cuanto se crean o se importan.</translation>
    </message>
    <message>
        <source>Explore the demo database instead</source>
        <translation>Explorar la base de datos de demostración</translation>
    </message>
    <message>
        <source>Filter by account ID or company name</source>
        <translation>Filtrar por ID de cuenta o nombre de empresa</translation>
    </message>
    <message>
        <source>Type part of a company name or the start of an account ID (Ctrl+F)</source>
        <translation>Escriba parte del nombre de una empresa o el principio de un ID de cuenta (Ctrl+F)</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Todos los tipos</translation>
    </message>
    <message>
        <source>Show only accounts of this type</source>
        <translation>Mostrar solo las cuentas de este tipo</translation>
    </message>
    <message>
        <source>Show only accounts in this country</source>
        <translation>Mostrar solo las cuentas de este país</translation>
    </message>
    <message>
        <source>All representatives</source>
        <translation>Todos los representantes</translation>
    </message>
    <message>
        <source>My accounts</source>
        <translation>Mis cuentas</translation>
    </message>
    <message>
        <source>Show only the accounts of this representative</source>
        <translation>Mostrar solo las cuentas de este representante</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>E&amp;xportar CSV…</translation>
    </message>
    <message>
        <source>Save the accounts of the current filter, in the current order, as a CSV file</source>
        <translation>Guardar las cuentas del filtro actual, en el orden actual, como archivo CSV</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>Solo con impagos</translation>
    </message>
    <message>
        <source>Show only accounts with an invoice past its due date</source>
        <translation>Mostrar solo las cuentas con una factura que ha superado su fecha de vencimiento</translation>
    </message>
    <message>
        <source>Accounts</source>
        <translation>Cuentas</translation>
    </message>
</context>
<context>
    <name>ActivityModel</name>
    <message>
        <source>When</source>
        <extracomment>Fields whose text values are codes from :data:`VALUE_WORDS`. Cancellation reason codes and their words (translated in &quot;CancellationReason&quot;). The :class:`ActivityEntry` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Operador</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Acción</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Solicitado por</translation>
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
        <translation>Licencias asignadas</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licencias desasignadas</translation>
    </message>
    <message>
        <source>Cart changed</source>
        <translation>Carrito modificado</translation>
    </message>
    <message>
        <source>Cart emptied</source>
        <translation>Carrito vaciado</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Pedido realizado</translation>
    </message>
    <message>
        <source>Product subscribed</source>
        <translation>Suscripción a un producto</translation>
    </message>
    <message>
        <source>Subscription changed</source>
        <translation>Suscripción modificada</translation>
    </message>
    <message>
        <source>Subscription downgraded</source>
        <translation>Suscripción cambiada a un nivel inferior</translation>
    </message>
    <message>
        <source>Subscription renewed</source>
        <translation>Suscripción renovada</translation>
    </message>
    <message>
        <source>Billing period advanced</source>
        <translation>Período de facturación avanzado</translation>
    </message>
    <message>
        <source>Contract term renewed</source>
        <translation>Plazo del contrato renovado</translation>
    </message>
    <message>
        <source>Subscription ended</source>
        <translation>Suscripción finalizada</translation>
    </message>
    <message>
        <source>Trial expired</source>
        <translation>Prueba caducada</translation>
    </message>
    <message>
        <source>Subscription cancelled online</source>
        <translation>Suscripción cancelada en línea</translation>
    </message>
    <message>
        <source>Subscription cancelled by support</source>
        <translation>Suscripción cancelada por el soporte</translation>
    </message>
    <message>
        <source>Add-on cancelled</source>
        <translation>Complemento cancelado</translation>
    </message>
    <message>
        <source>Subscription reactivated</source>
        <translation>Suscripción reactivada</translation>
    </message>
    <message>
        <source>Caller verification</source>
        <translation>Verificación de identidad</translation>
    </message>
    <message>
        <source>Caller verification failed repeatedly</source>
        <translation>Verificación de identidad fallida varias veces</translation>
    </message>
    <message>
        <source>Operator name changed</source>
        <translation>Nombre del operador modificado</translation>
    </message>
    <message>
        <source>Accounts list exported</source>
        <translation>Lista de cuentas exportada</translation>
    </message>
    <message>
        <source>Trial ending notice sent</source>
        <translation>Aviso de fin de prueba enviado</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Datos marcados para su eliminación</translation>
    </message>
    <message>
        <source>Autopay changed</source>
        <translation>Pago automático modificado</translation>
    </message>
    <message>
        <source>VAT number changed</source>
        <translation>Número de IVA modificado</translation>
    </message>
    <message>
        <source>Account data exported</source>
        <translation>Datos de la cuenta exportados</translation>
    </message>
    <message>
        <source>Invoice recipients changed</source>
        <translation>Destinatarios de facturas modificados</translation>
    </message>
    <message>
        <source>Account details changed</source>
        <translation>Datos de la cuenta modificados</translation>
    </message>
    <message>
        <source>Representative changed</source>
        <translation>Representante modificado</translation>
    </message>
    <message>
        <source>Payment method added</source>
        <translation>Método de pago añadido</translation>
    </message>
    <message>
        <source>Payment method removed</source>
        <translation>Método de pago eliminado</translation>
    </message>
    <message>
        <source>Default payment method changed</source>
        <translation>Método de pago predeterminado modificado</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Pago registrado</translation>
    </message>
    <message>
        <source>Invoice disputed</source>
        <translation>Factura reclamada</translation>
    </message>
    <message>
        <source>Invoice voided</source>
        <translation>Factura anulada</translation>
    </message>
    <message>
        <source>Contacts with a licence</source>
        <extracomment>Field names of the before/after values, in words.</extracomment>
        <translation>Contactos con licencia</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Renews automatically</source>
        <translation>Renovación automática</translation>
    </message>
    <message>
        <source>Cancellation requested</source>
        <translation>Cancelación solicitada</translation>
    </message>
    <message>
        <source>Cancellation effective</source>
        <translation>Cancelación efectiva</translation>
    </message>
    <message>
        <source>Cancellation reason</source>
        <translation>Motivo de la cancelación</translation>
    </message>
    <message>
        <source>Reason given</source>
        <translation>Motivo indicado</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Activa hasta</translation>
    </message>
    <message>
        <source>Months still billed</source>
        <translation>Meses aún facturados</translation>
    </message>
    <message>
        <source>Amount still billed</source>
        <translation>Importe aún facturado</translation>
    </message>
    <message>
        <source>Additional charge</source>
        <translation>Cargo adicional</translation>
    </message>
    <message>
        <source>Renewed</source>
        <translation>Renovado</translation>
    </message>
    <message>
        <source>Data deleted on</source>
        <translation>Datos eliminados el</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licencias</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frecuencia de facturación</translation>
    </message>
    <message>
        <source>Bought through</source>
        <translation>Canal de compra</translation>
    </message>
    <message>
        <source>Billing anchor date</source>
        <translation>Fecha de referencia de facturación</translation>
    </message>
    <message>
        <source>Period start</source>
        <translation>Inicio del período</translation>
    </message>
    <message>
        <source>Period end</source>
        <translation>Fin del período</translation>
    </message>
    <message>
        <source>Term start</source>
        <translation>Inicio del contrato</translation>
    </message>
    <message>
        <source>Term end</source>
        <translation>Fin del contrato</translation>
    </message>
    <message>
        <source>Term in months</source>
        <translation>Duración en meses</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fin de la prueba</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Finalizó el</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Complementos</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Complemento</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Activa</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Finaliza el</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Pago automático</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Número de IVA</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Representante</translation>
    </message>
    <message>
        <source>Account type</source>
        <translation>Tipo de cuenta</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Dirección</translation>
    </message>
    <message>
        <source>Address (second line)</source>
        <translation>Dirección (segunda línea)</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Código postal</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ciudad</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>Región</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>País</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Idioma</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Moneda</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Marca</translation>
    </message>
    <message>
        <source>Last four digits</source>
        <translation>Últimos cuatro dígitos</translation>
    </message>
    <message>
        <source>Expiry month</source>
        <translation>Mes de caducidad</translation>
    </message>
    <message>
        <source>Expiry year</source>
        <translation>Año de caducidad</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titular</translation>
    </message>
    <message>
        <source>Bank country</source>
        <translation>País del banco</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Predeterminado</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Método de pago predeterminado</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Resumen</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Correo electrónico</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Verificado</translation>
    </message>
    <message>
        <source>Outstanding</source>
        <translation>Pendiente</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Saldo a favor</translation>
    </message>
    <message>
        <source>Trial</source>
        <extracomment>Stored codes that appear as values (statuses, frequencies), in words.</extracomment>
        <translation>Prueba</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prueba finalizada</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Cancelación pendiente</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Cancelada</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Caducada</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensual</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Anual</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Sí</translation>
    </message>
    <message>
        <source>No</source>
        <translation>No</translation>
    </message>
    <message>
        <source>Select an entry to see what changed.</source>
        <extracomment>Part of the account page&apos;s tab interface; this tab never writes.</extracomment>
        <translation>Seleccione una entrada para ver qué ha cambiado.</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Sistema</translation>
    </message>
    <message>
        <source>{when} by {operator}</source>
        <translation>{when}, por {operator}</translation>
    </message>
    <message>
        <source>Product: {product}</source>
        <translation>Producto: {product}</translation>
    </message>
    <message>
        <source>Requested by {contact}</source>
        <translation>Solicitado por {contact}</translation>
    </message>
    <message>
        <source>No values changed.</source>
        <translation>No ha cambiado ningún valor.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Campo</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Antes</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Después</translation>
    </message>
    <message>
        <source>Nothing has been changed on this account yet.</source>
        <translation>Todavía no se ha modificado nada en esta cuenta.</translation>
    </message>
    <message>
        <source>Activity of the account</source>
        <translation>Actividad de la cuenta</translation>
    </message>
    <message>
        <source>What changed</source>
        <translation>Qué ha cambiado</translation>
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
        <translation>«{location}» no es ni un archivo de base de datos ni una dirección de servidor.</translation>
    </message>
</context>
<context>
    <name>AssistedCancellation</name>
    <message>
        <source>Done</source>
        <extracomment>Larger than the shared minimum: the checklist and the &quot;still billed&quot; page of one product fit without scrolling at 100 % and 150 %. The verification fields in the order the article lists them (the service&apos;s codes).</extracomment>
        <translation>Hecho</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Aún no</translation>
    </message>
    <message>
        <source>Month to month, billed monthly</source>
        <translation>Mes a mes, facturación mensual</translation>
    </message>
    <message>
        <source>Month to month, billed annually</source>
        <translation>Mes a mes, facturación anual</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed monthly</source>
        <translation>Plazo fijo de {months} meses, facturación mensual</translation>
    </message>
    <message>
        <source>Fixed term of {months} months, billed annually</source>
        <translation>Plazo fijo de {months} meses, facturación anual</translation>
    </message>
</context>
<context>
    <name>AssistedCancellationWizard</name>
    <message>
        <source>The billing contact can cancel {product} online: use Cancel subscription on its card.</source>
        <translation>El contacto de facturación puede cancelar {product} en línea: utilice Cancelar suscripción en su tarjeta de producto.</translation>
    </message>
    <message>
        <source>Nothing on this account can be cancelled now.</source>
        <translation>Ahora mismo no se puede cancelar nada en esta cuenta.</translation>
    </message>
    <message>
        <source>Assisted cancellation – {account}</source>
        <translation>Cancelación asistida – {account}</translation>
    </message>
</context>
<context>
    <name>BackgroundTask</name>
    <message>
        <source>Cancelling…</source>
        <extracomment>The dialog shows only for work that takes longer than this (milliseconds). the work returned a value (GUI thread), not emitted after Cancel the work raised (GUI thread); carries the exception the user cancelled and the work has stopped after any of the three above: the task is over ``(stage, done, total)`` as reported by the work (GUI thread)</extracomment>
        <translation>Cancelando…</translation>
    </message>
</context>
<context>
    <name>CancellationConfirmPage</name>
    <message>
        <source>Cancel {product}?</source>
        <translation>¿Cancelar {product}?</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licencias</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frecuencia de facturación</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>A free trial without billing information simply expires at the end of the trial period, on {date}, with no charge and nothing else to do. Cancelling it now only records the reason.</source>
        <translation>Una prueba gratuita sin datos de facturación simplemente caduca al final del período de prueba, el {date}, sin ningún cargo y sin que haya que hacer nada más. Cancelarla ahora solo registra el motivo.</translation>
    </message>
    <message>
        <source>The agreement runs until {date}: {amount} is still billed for its remaining months. Nothing is refunded.</source>
        <translation>El contrato está vigente hasta el {date}: todavía se facturará un importe de {amount} por los meses restantes. No se reembolsa nada.</translation>
    </message>
    <message>
        <source>The current billing period is already paid for and is not refunded; nothing more is billed. Its data is kept until {deletion}, then deleted.</source>
        <translation>El período de facturación actual ya está pagado y no se reembolsa; no se factura nada más. Sus datos se conservan hasta el {deletion} y después se eliminan.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled here.</source>
        <translation>Esta suscripción no se puede cancelar aquí.</translation>
    </message>
    <message>
        <source>Check what happens, give a reason and confirm with Yes, cancel.</source>
        <translation>Compruebe lo que sucederá, indique un motivo y confirme con Sí, cancelar.</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>La prueba finaliza el</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Renovación automática</translation>
    </message>
    <message>
        <source>None: a trial is never charged</source>
        <translation>Ninguna: una prueba nunca se cobra</translation>
    </message>
    <message>
        <source>Active until</source>
        <translation>Activa hasta</translation>
    </message>
    <message>
        <source>Turned off: the plan is not renewed after {date}</source>
        <translation>Desactivada: el plan no se renueva después del {date}</translation>
    </message>
    <message>
        <source>Why is it being cancelled?</source>
        <translation>¿Por qué se cancela?</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>Solici&amp;tado por:</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motivo:</translation>
    </message>
    <message>
        <source>De&amp;tails:</source>
        <translation>&amp;Detalles:</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>Elija un motivo</translation>
    </message>
    <message>
        <source>Anything the customer adds (optional; up to {maximum} characters)</source>
        <translation>Lo que quiera añadir el cliente (opcional; hasta {maximum} caracteres)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motivo</translation>
    </message>
    <message>
        <source>Details of the reason</source>
        <translation>Detalles del motivo</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>Solicitado por</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; (billing contact)</source>
        <translation>{name} &lt;{email}&gt; (contacto de facturación)</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>&amp;Start assisted cancellation…</source>
        <translation>&amp;Iniciar cancelación asistida…</translation>
    </message>
</context>
<context>
    <name>CancellationReason</name>
    <message>
        <source>It is too expensive</source>
        <translation>Es demasiado caro</translation>
    </message>
    <message>
        <source>It lacks features we need</source>
        <translation>Le faltan funciones que necesitamos</translation>
    </message>
    <message>
        <source>We are switching provider</source>
        <translation>Vamos a cambiar de proveedor</translation>
    </message>
    <message>
        <source>We no longer need it</source>
        <translation>Ya no lo necesitamos</translation>
    </message>
    <message>
        <source>It was a temporary project</source>
        <translation>Era un proyecto temporal</translation>
    </message>
    <message>
        <source>Technical problems</source>
        <translation>Problemas técnicos</translation>
    </message>
    <message>
        <source>Other (please describe)</source>
        <translation>Otro (descríbalo)</translation>
    </message>
</context>
<context>
    <name>CancellationResultPage</name>
    <message>
        <source>Cancellation confirmed</source>
        <translation>Cancelación confirmada</translation>
    </message>
    <message>
        <source>Auto-renewal is off. Click Close to finish.</source>
        <translation>La renovación automática está desactivada. Haga clic en Cerrar para terminar.</translation>
    </message>
    <message>
        <source>The {product} trial ends on {date}, with no charge.</source>
        <translation>La prueba de {product} finaliza el {date}, sin ningún cargo.</translation>
    </message>
    <message>
        <source>Your {product} subscription expires on {date}.</source>
        <translation>Su suscripción a {product} caduca el {date}.</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Cancelación pendiente</translation>
    </message>
    <message>
        <source>Sent to {email}</source>
        <translation>Enviado a {email}</translation>
    </message>
    <message>
        <source>Sent to the billing contact</source>
        <translation>Enviado al contacto de facturación</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>La prueba finaliza el</translation>
    </message>
    <message>
        <source>Expires on</source>
        <translation>Caduca el</translation>
    </message>
    <message>
        <source>Auto-renewal</source>
        <translation>Renovación automática</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Desactivada</translation>
    </message>
    <message>
        <source>Confirmation email</source>
        <translation>Correo de confirmación</translation>
    </message>
    <message>
        <source>If you change your mind, choose Reactivate in the subscription&apos;s options menu before {date}.</source>
        <translation>Si cambia de opinión, elija Reactivar en el menú de opciones de la suscripción antes del {date}.</translation>
    </message>
</context>
<context>
    <name>CancellationWizard</name>
    <message>
        <source>Open &amp;Invoices</source>
        <extracomment>Refusals the account page can resolve: the service&apos;s refusal code → the tab to open and the button&apos;s words (context &quot;CancellationWizard&quot;).</extracomment>
        <translation>Abrir &amp;facturas</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>The warning style of the notes (dark text on a light tint, as on the cards). the user chose the assisted cancellation instead (a support-only product) where the confirmation email went (&quot;&quot; until cancelled or when unknown) the assisted wizard opened from here (support-only products)</extracomment>
        <translation>{product} no se puede cancelar en línea. Póngase en contacto con el soporte para cancelarlo.</translation>
    </message>
    <message>
        <source>This subscription cannot be cancelled now.</source>
        <translation>Esta suscripción no se puede cancelar ahora.</translation>
    </message>
    <message>
        <source>Cancel subscription: {product}</source>
        <translation>Cancelar suscripción: {product}</translation>
    </message>
    <message>
        <source>Cancel subscription</source>
        <translation>Cancelar suscripción</translation>
    </message>
    <message>
        <source>&amp;Yes, cancel</source>
        <translation>&amp;Sí, cancelar</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t cancel</source>
        <translation>&amp;No cancelar</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Cerrar</translation>
    </message>
</context>
<context>
    <name>CancellationsModel</name>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Ends on</source>
        <translation>Finaliza el</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importe</translation>
    </message>
</context>
<context>
    <name>CartPage</name>
    <message>
        <source>Cart</source>
        <translation>Carrito</translation>
    </message>
    <message>
        <source>Everything in the cart is checked out as one order and one invoice.</source>
        <translation>Todo el contenido del carrito se tramita como un único pedido y una única factura.</translation>
    </message>
    <message>
        <source>Review the products in your cart. Select one and press Remove from cart to take it out.</source>
        <translation>Revise los productos de su carrito. Para quitar uno, selecciónelo y pulse Quitar del carrito.</translation>
    </message>
    <message>
        <source>&amp;Remove from cart</source>
        <translation>&amp;Quitar del carrito</translation>
    </message>
    <message>
        <source>Products in the cart</source>
        <translation>Productos del carrito</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Pagar</translation>
    </message>
</context>
<context>
    <name>Catalog</name>
    <message>
        <source>Attended and unattended remote support for help desks (previous generation).</source>
        <translation>Soporte remoto con y sin supervisión para servicios de asistencia (generación anterior).</translation>
    </message>
    <message>
        <source>Mobile device support</source>
        <translation>Soporte para dispositivos móviles</translation>
    </message>
    <message>
        <source>Camera share</source>
        <translation>Compartir cámara</translation>
    </message>
    <message>
        <source>Additional storage (100 GB)</source>
        <translation>Almacenamiento adicional (100 GB)</translation>
    </message>
    <message>
        <source>Remote support with a service desk, for technicians of any team size.</source>
        <translation>Soporte remoto con centro de servicio, para técnicos de equipos de cualquier tamaño.</translation>
    </message>
    <message>
        <source>Remote monitoring, management and support for IT teams and managed service providers.</source>
        <translation>Supervisión, gestión y soporte remotos para equipos de TI y proveedores de servicios gestionados.</translation>
    </message>
    <message>
        <source>Third-party patch management</source>
        <translation>Gestión de parches de terceros</translation>
    </message>
    <message>
        <source>Mobile device management</source>
        <translation>Gestión de dispositivos móviles</translation>
    </message>
    <message>
        <source>Additional storage (250 GB)</source>
        <translation>Almacenamiento adicional (250 GB)</translation>
    </message>
    <message>
        <source>Cloud phone system with video meetings, messaging and a contact centre option.</source>
        <translation>Centralita en la nube con videorreuniones, mensajería y centro de contacto opcional.</translation>
    </message>
    <message>
        <source>Contact center</source>
        <translation>Centro de contacto</translation>
    </message>
    <message>
        <source>Call recording storage</source>
        <translation>Almacenamiento de grabaciones de llamadas</translation>
    </message>
    <message>
        <source>Online meetings and video conferencing.</source>
        <translation>Reuniones en línea y videoconferencias.</translation>
    </message>
    <message>
        <source>Additional cloud storage</source>
        <translation>Almacenamiento adicional en la nube</translation>
    </message>
    <message>
        <source>Conference room connector</source>
        <translation>Conector para salas de reuniones</translation>
    </message>
    <message>
        <source>Webinars and virtual events with registration, polls and analytics.</source>
        <translation>Seminarios web y eventos virtuales con inscripción, encuestas y análisis.</translation>
    </message>
    <message>
        <source>Webinar recording storage</source>
        <translation>Almacenamiento de grabaciones de seminarios web</translation>
    </message>
</context>
<context>
    <name>ChecklistPage</name>
    <message>
        <source>The account&apos;s data was exported to {path}.</source>
        <translation>Los datos de la cuenta se han exportado a {path}.</translation>
    </message>
    <message>
        <source>The default card has expired; add a new card or make another method the default first.</source>
        <translation>La tarjeta predeterminada ha caducado; primero añada una tarjeta nueva o establezca otro método como predeterminado.</translation>
    </message>
    <message>
        <source>{contract}.</source>
        <translation>{contract}.</translation>
    </message>
    <message>
        <source>The agreement runs from {start} to {end}.</source>
        <translation>El contrato está vigente del {start} al {end}.</translation>
    </message>
    <message>
        <source>The 30-day notice window closed on {deadline}: the agreement renews once more before it ends.</source>
        <translation>El plazo de preaviso de 30 días terminó el {deadline}: el contrato se renueva una vez más antes de finalizar.</translation>
    </message>
    <message>
        <source>Cancelled by {deadline}, it does not renew.</source>
        <translation>Si se cancela a más tardar el {deadline}, no se renueva.</translation>
    </message>
    <message>
        <source>The current billing period ends on {date}.</source>
        <translation>El período de facturación actual finaliza el {date}.</translation>
    </message>
    <message>
        <source>{product}:</source>
        <translation>{product}:</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>¿Registrar una transferencia bancaria de {amount} para la cuenta {account}?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>¿Cargar {amount} en {method} para la cuenta {account}?</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Pagar el saldo</translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: the open invoices are paid oldest first and the customer is emailed a payment confirmation.</source>
        <translation>Se hace de inmediato, antes de la cancelación: las facturas abiertas se pagan empezando por la más antigua y el cliente recibe una confirmación del pago por correo electrónico.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Pagar {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}; the customer was emailed.</source>
        <translation>Pago de {amount} recibido mediante {method}; se ha enviado un correo electrónico al cliente.</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Desasignar todas</translation>
    </message>
    <message numerus="yes">
        <source>Take back all %n licence(s) of {products} from their users?</source>
        <translation>
            <numerusform>¿Retirar a su usuario la %n licencia de {products}?</numerusform>
            <numerusform>¿Retirar a sus usuarios las %n licencias de {products}?</numerusform>
        </translation>
    </message>
    <message>
        <source>This is done at once, before the cancellation: these users can no longer use the product.</source>
        <translation>Se hace de inmediato, antes de la cancelación: estos usuarios ya no podrán utilizar el producto.</translation>
    </message>
    <message>
        <source>&amp;Unassign all</source>
        <translation>&amp;Desasignar todas</translation>
    </message>
    <message>
        <source>Nothing was unassigned. The checklist now shows the current data: check it and press Unassign all again if needed.</source>
        <translation>No se ha desasignado nada. La lista de comprobación muestra ahora los datos actuales: revísela y, si es necesario, vuelva a pulsar Desasignar todas.</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) were unassigned.</source>
        <translation>
            <numerusform>Se ha desasignado %n licencia.</numerusform>
            <numerusform>Se han desasignado %n licencias.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export account data</source>
        <translation>Exportar los datos de la cuenta</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Archivos ZIP (*.zip)</translation>
    </message>
    <message>
        <source>Reading the account&apos;s data…</source>
        <translation>Leyendo los datos de la cuenta…</translation>
    </message>
    <message>
        <source>Writing the archive…</source>
        <translation>Escribiendo el archivo…</translation>
    </message>
    <message>
        <source>Exporting the account&apos;s data…</source>
        <translation>Exportando los datos de la cuenta…</translation>
    </message>
    <message>
        <source>The account&apos;s data was exported.</source>
        <translation>Los datos de la cuenta se han exportado.</translation>
    </message>
    <message>
        <source>Before you cancel</source>
        <translation>Antes de cancelar</translation>
    </message>
    <message>
        <source>Step 3 of 6: every item must hold before the cancellation can go ahead.</source>
        <translation>Paso 3 de 6: deben cumplirse todos los puntos para poder seguir con la cancelación.</translation>
    </message>
    <message>
        <source>Each button here does one thing at once, after you confirm it: it is the only change made before the final Cancel subscriptions button. Each item ticks itself when it holds.</source>
        <translation>Cada botón de esta página hace una sola cosa de inmediato, después de que usted lo confirme: es el único cambio que se realiza antes del botón final Cancelar suscripciones. Cada punto se marca solo cuando se cumple.</translation>
    </message>
    <message>
        <source>&amp;Pay balance…</source>
        <translation>&amp;Pagar el saldo…</translation>
    </message>
    <message>
        <source>Payment &amp;methods…</source>
        <translation>&amp;Métodos de pago…</translation>
    </message>
    <message>
        <source>&amp;Unassign all…</source>
        <translation>&amp;Desasignar todas…</translation>
    </message>
    <message>
        <source>E&amp;xport account data…</source>
        <translation>E&amp;xportar datos de la cuenta…</translation>
    </message>
    <message>
        <source>The caller confirms the data is already backed &amp;up</source>
        <translation>La persona que llama confirma que ya hay copia de seg&amp;uridad de los datos</translation>
    </message>
</context>
<context>
    <name>CheckoutWizard</name>
    <message>
        <source>Monthly</source>
        <extracomment>error codes that block the whole change (shown on the Plan page with the way out) error codes about the tier choice (shown under the tiers) error codes about the licence count (shown under the spin box)</extracomment>
        <translation>Mensual</translation>
    </message>
    <message>
        <source>Annual</source>
        <translation>Anual</translation>
    </message>
    <message>
        <source>billed monthly</source>
        <extracomment>how a line is billed, as a whole phrase (never a lower-cased frequency word)</extracomment>
        <translation>facturación mensual</translation>
    </message>
    <message>
        <source>billed annually</source>
        <translation>facturación anual</translation>
    </message>
    <message>
        <source>{price} per licence per month</source>
        <extracomment>&quot;per licence per month|year&quot; for the price of a tier or an add-on</extracomment>
        <translation>{price} por licencia al mes</translation>
    </message>
    <message>
        <source>{price} per licence per year</source>
        <translation>{price} por licencia al año</translation>
    </message>
    <message>
        <source>{price} per month</source>
        <translation>{price} al mes</translation>
    </message>
    <message>
        <source>{price} per year</source>
        <translation>{price} al año</translation>
    </message>
    <message>
        <source>Checkout — {company} ({account})</source>
        <extracomment>a subscription starts (trial, ended trial, cancelled or new product) the contact chosen on the Plan page (None: the billing contact) the change of the Plan page (unsaved) the order goes through the stored cart (Add to cart / opened from the cart) the Plan page&apos;s change was added to the cart by Place order (a retry only places) Place order met a conflict: another operator changed what the review shows (going back reads the data again) the Plan page; ``None`` when the wizard was opened from the cart the page shown before the current one (to tell Back from Next)</extracomment>
        <translation>Pedido — {company} ({account})</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Cerrar</translation>
    </message>
    <message>
        <source>subscribe to {plan}</source>
        <translation>nueva suscripción a {plan}</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licencia (antes {old})</numerusform>
            <numerusform>%n licencias (antes {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licencia</numerusform>
            <numerusform>%n licencias</numerusform>
        </translation>
    </message>
    <message>
        <source>{product}: {plan}, {licences}, {billing}</source>
        <translation>{product}: {plan}, {licences}, {billing}</translation>
    </message>
    <message>
        <source>{line}; adds {addons}</source>
        <translation>{line}; añade {addons}</translation>
    </message>
    <message>
        <source>Press Edit order to read the current data and review the order again.</source>
        <extracomment>the order was placed (the wizard emits ``completed``)</extracomment>
        <translation>Pulse Editar pedido para cargar los datos actuales y revisar de nuevo el pedido.</translation>
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
        <translation>Producto:</translation>
    </message>
    <message>
        <source>Billing period:</source>
        <translation>Período de facturación:</translation>
    </message>
    <message>
        <source>{period} (starts today, {billing})</source>
        <translation>{period} (empieza hoy, {billing})</translation>
    </message>
    <message>
        <source>{new} (was {old})</source>
        <translation>{new} (antes {old})</translation>
    </message>
    <message>
        <source>Licences:</source>
        <translation>Licencias:</translation>
    </message>
    <message>
        <source>Plan price:</source>
        <translation>Precio del plan:</translation>
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
        <translation>Abono por prorrateo:</translation>
    </message>
    <message>
        <source>{amount} for {days} unused days ({period})</source>
        <translation>{amount} por {days} días no utilizados ({period})</translation>
    </message>
    <message>
        <source>Subtotal:</source>
        <translation>Base imponible:</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>{amount} — reverse charge (VAT number {number})</source>
        <translation>{amount} — inversión del sujeto pasivo (número de IVA {number})</translation>
    </message>
    <message>
        <source>VAT ({rate}):</source>
        <translation>IVA ({rate}):</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Total:</translation>
    </message>
    <message>
        <source>Account credit applied:</source>
        <translation>Saldo a favor aplicado:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Total a pagar ahora:</translation>
    </message>
    <message>
        <source>Becomes account credit:</source>
        <translation>Pasa al saldo a favor:</translation>
    </message>
    <message>
        <source>Press Back to review the order again with the current data.</source>
        <translation>Pulse Atrás para revisar de nuevo el pedido con los datos actuales.</translation>
    </message>
</context>
<context>
    <name>ClockControl</name>
    <message>
        <source>Simulated Clock</source>
        <extracomment>the upcoming-events panel&apos;s first height under the view (pixels) the clock moved (also after a cancelled move that did part of the way): the summary the upcoming-events panel refreshed after each move (set by ``install_clock_control``) the move running, if any the summary of the last move, while it is open why this operator may not move the clock (None: they may) View ▸ Simulated Clock (set by ``install_clock_control``) the result also after Cancel (the work&apos;s return value is dropped then)</extracomment>
        <translation>Reloj simulado</translation>
    </message>
    <message>
        <source>Moving the clock to {date} and running what is due…</source>
        <translation>Adelantando el reloj al {date} y ejecutando lo pendiente…</translation>
    </message>
    <message>
        <source>Move the clock to the next renewal, trial end, cancellation end or term end.</source>
        <translation>Adelantar el reloj hasta el próximo evento: una renovación, el fin de una prueba, la entrada en vigor de una cancelación o el fin del plazo de un contrato.</translation>
    </message>
    <message>
        <source>Nothing lies ahead: no renewal, trial end, cancellation or term end.</source>
        <translation>No hay nada por delante: ninguna renovación, fin de prueba, cancelación ni fin de plazo de contrato.</translation>
    </message>
    <message>
        <source>Move to {date}: {product} of {company} renews.</source>
        <translation>Avanzar al {date}: se renueva {product} de {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} trial of {company} ends.</source>
        <translation>Avanzar al {date}: finaliza la prueba de {product} de {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the cancellation of {product} for {company} takes effect.</source>
        <translation>Avanzar al {date}: entra en vigor la cancelación de {product} de {company}.</translation>
    </message>
    <message>
        <source>Move to {date}: the {product} contract term of {company} ends.</source>
        <translation>Avanzar al {date}: finaliza el plazo del contrato de {product} de {company}.</translation>
    </message>
    <message numerus="yes">
        <source>And %n more event(s) that day.</source>
        <translation>
            <numerusform>Y %n evento más ese día.</numerusform>
            <numerusform>Y %n eventos más ese día.</numerusform>
        </translation>
    </message>
    <message>
        <source>+1 day</source>
        <translation>+1 día</translation>
    </message>
    <message>
        <source>Move the simulated date one day forward and run what is due.</source>
        <translation>Adelantar la fecha simulada un día y ejecutar lo pendiente.</translation>
    </message>
    <message>
        <source>+1 month</source>
        <translation>+1 mes</translation>
    </message>
    <message>
        <source>Move the simulated date one month forward and run what is due.</source>
        <translation>Adelantar la fecha simulada un mes y ejecutar lo pendiente.</translation>
    </message>
    <message>
        <source>To next event</source>
        <translation>Siguiente evento</translation>
    </message>
    <message>
        <source>To date…</source>
        <translation>A una fecha…</translation>
    </message>
    <message>
        <source>Pick a day after today: the simulated date moves there and runs what is due.</source>
        <translation>Elija un día posterior a hoy: la fecha simulada avanza hasta ese día y se ejecuta lo pendiente.</translation>
    </message>
    <message>
        <source>Day to move the clock to</source>
        <translation>Día al que adelantar el reloj</translation>
    </message>
    <message>
        <source>The simulated clock of this demo database: it only moves forward.</source>
        <translation>El reloj simulado de esta base de datos de demostración: solo avanza.</translation>
    </message>
</context>
<context>
    <name>ClockSummaryDialog</name>
    <message>
        <source>Renewal invoice</source>
        <extracomment>the tree&apos;s item role holding the account id of a line (None on group titles) lines listed per group; a long move on a large demo lists the first ones and a count</extracomment>
        <translation>Factura de renovación</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Fin próximo de la prueba</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prueba finalizada</translation>
    </message>
    <message>
        <source>{product} renewed for its last period</source>
        <translation>{product} se ha renovado por su último período</translation>
    </message>
    <message>
        <source>{product} renewed until {date}</source>
        <translation>{product} se ha renovado hasta el {date}</translation>
    </message>
    <message>
        <source>The {product} trial ended without a purchase</source>
        <translation>La prueba de {product} ha finalizado sin compra</translation>
    </message>
    <message>
        <source>{product} ended: its cancellation took effect</source>
        <translation>{product} ha finalizado: su cancelación ha entrado en vigor</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, paid</source>
        <translation>Factura {number} de {product}: {amount}, pagada</translation>
    </message>
    <message>
        <source>Invoice {number} for {product}: {amount}, open</source>
        <translation>Factura {number} de {product}: {amount}, abierta</translation>
    </message>
    <message>
        <source>“{email}” email about {product} to {address}</source>
        <translation>Correo «{email}» sobre {product} a {address}</translation>
    </message>
    <message>
        <source>“{email}” email about {product}</source>
        <translation>Correo «{email}» sobre {product}</translation>
    </message>
    <message>
        <source>{product} term renewed until {date}</source>
        <translation>El plazo del contrato de {product} se ha renovado hasta el {date}</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) fell overdue</source>
        <translation>
            <numerusform>%n factura ha vencido</numerusform>
            <numerusform>%n facturas han vencido</numerusform>
        </translation>
    </message>
    <message>
        <source>The data of {product} was marked for deletion</source>
        <translation>Los datos de {product} se han marcado para su eliminación</translation>
    </message>
    <message>
        <source>Double-click or press Enter to open {company}</source>
        <extracomment>a line was activated (double-click or Enter): the account&apos;s id</extracomment>
        <translation>Haga doble clic o pulse Intro para abrir {company}</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… y %n más</numerusform>
            <numerusform>… y %n más</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) failed and will be retried</source>
        <translation>
            <numerusform>Ha fallado %n evento y se volverá a intentar</numerusform>
            <numerusform>Han fallado %n eventos y se volverán a intentar</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) renewed</source>
        <translation>
            <numerusform>%n suscripción renovada</numerusform>
            <numerusform>%n suscripciones renovadas</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n trial(s) expired</source>
        <translation>
            <numerusform>%n prueba caducada</numerusform>
            <numerusform>%n pruebas caducadas</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) cancelled</source>
        <translation>
            <numerusform>%n suscripción cancelada</numerusform>
            <numerusform>%n suscripciones canceladas</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) issued, {total} in all</source>
        <translation>
            <numerusform>%n factura emitida, {total} en total</numerusform>
            <numerusform>%n facturas emitidas, {total} en total</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) queued for the customers</source>
        <translation>
            <numerusform>%n correo en cola para los clientes</numerusform>
            <numerusform>%n correos en cola para los clientes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n contract term(s) renewed</source>
        <translation>
            <numerusform>%n plazo de contrato renovado</numerusform>
            <numerusform>%n plazos de contrato renovados</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n subscription(s) marked for data deletion</source>
        <translation>
            <numerusform>%n suscripción marcada para la eliminación de datos</numerusform>
            <numerusform>%n suscripciones marcadas para la eliminación de datos</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled: the clock stopped on {date} instead of {requested}. What happened until then is kept.</source>
        <translation>Cancelado: el reloj se detuvo el {date} en lugar del {requested}. Se conserva lo ocurrido hasta entonces.</translation>
    </message>
    <message>
        <source>The clock moved from {start} to {end}.</source>
        <translation>El reloj avanzó del {start} al {end}.</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>Lo ocurrido</translation>
    </message>
    <message>
        <source>Nothing was due between {start} and {end}.</source>
        <translation>No había nada pendiente entre el {start} y el {end}.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) processed.</source>
        <translation>
            <numerusform>%n evento procesado.</numerusform>
            <numerusform>%n eventos procesados.</numerusform>
        </translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>What happened, by kind</source>
        <translation>Lo ocurrido, por tipo</translation>
    </message>
    <message>
        <source>Double-click a line, or select it and press Enter, to open its account.</source>
        <translation>Haga doble clic en una línea, o selecciónela y pulse Intro, para abrir su cuenta.</translation>
    </message>
</context>
<context>
    <name>ConfirmPage</name>
    <message>
        <source>Account:</source>
        <translation>Cuenta:</translation>
    </message>
    <message>
        <source>{account}, {company}</source>
        <translation>{account}, {company}</translation>
    </message>
    <message>
        <source>Requested by:</source>
        <translation>Solicitado por:</translation>
    </message>
    <message>
        <source>{name} ({roles})</source>
        <translation>{name} ({roles})</translation>
    </message>
    <message>
        <source>Caller verified:</source>
        <translation>Identidad verificada:</translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>cancelled now, active until {date}</source>
        <translation>cancelado ahora, activo hasta el {date}</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Se sigue facturando:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Facturado ahora:</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Nada</translation>
    </message>
    <message>
        <source>Confirmation email to:</source>
        <translation>Correo de confirmación a:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>Confirm the cancellation</source>
        <translation>Confirmar la cancelación</translation>
    </message>
    <message>
        <source>Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.</source>
        <translation>Paso 6 de 6: no se cancela nada hasta que pulse Cancelar suscripciones.</translation>
    </message>
    <message>
        <source>Cancel &amp;subscriptions</source>
        <translation>Cancelar &amp;suscripciones</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>&amp;Motivo:</translation>
    </message>
    <message>
        <source>&amp;Details:</source>
        <translation>&amp;Detalles:</translation>
    </message>
    <message>
        <source>What the caller said (required for Other)</source>
        <translation>Lo que ha dicho la persona que llama (obligatorio para Otro)</translation>
    </message>
    <message>
        <source>Choose a reason…</source>
        <translation>Elija un motivo…</translation>
    </message>
</context>
<context>
    <name>ContactRole</name>
    <message>
        <source>Super admin</source>
        <extracomment>Contact roles in the order they are listed, most powerful first.</extracomment>
        <translation>Superadministrador</translation>
    </message>
    <message>
        <source>Billing admin</source>
        <translation>Administrador de facturación</translation>
    </message>
    <message>
        <source>Product admin</source>
        <translation>Administrador de productos</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Usuario</translation>
    </message>
</context>
<context>
    <name>CorporateAccountsModel</name>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Representante</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Ninguno</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>Unexpected error</source>
        <extracomment>After the window is shown: open the log file, then warm up the write path. How long the exit waits for background reads before closing the database.</extracomment>
        <translation>Error inesperado</translation>
    </message>
    <message>
        <source>Billing Desktop ran into an unexpected error.</source>
        <translation>Se ha producido un error inesperado en Billing Desktop.</translation>
    </message>
    <message>
        <source>The details were written to {path}. Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>Los detalles se han registrado en {path}. No se ha guardado nada a medias: cada cambio se aplica entero o no se aplica. Puede seguir trabajando, o salir y volver a empezar.</translation>
    </message>
    <message>
        <source>Nothing was saved halfway: every change is all or nothing. You can keep working, or quit and start again.</source>
        <translation>No se ha guardado nada a medias: cada cambio se aplica entero o no se aplica. Puede seguir trabajando, o salir y volver a empezar.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Salir</translation>
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
        <translation>✗ Plan inferior: {reason}</translation>
    </message>
    <message>
        <source>In the Billing Center</source>
        <translation>En el Centro de facturación</translation>
    </message>
</context>
<context>
    <name>CustomerView</name>
    <message>
        <source>Open an account to see its Billing Center as the customer sees it.</source>
        <extracomment>the view was read again and what it shows changed the contact shown as; ``None`` = the account&apos;s billing contact</extracomment>
        <translation>Abra una cuenta para ver su Centro de facturación tal como lo ve el cliente.</translation>
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
        <translation>✓ {product}: se puede comprar</translation>
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
        <translation>Importe pendiente: {amount}. El cliente puede pagarlo con Pagar el saldo.</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>No hay nada pendiente de pago.</translation>
    </message>
    <message numerus="yes">
        <source>Open invoices (%n)</source>
        <translation>
            <numerusform>Facturas abiertas (%n)</numerusform>
            <numerusform>Facturas abiertas (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Paid invoices (%n)</source>
        <translation>
            <numerusform>Facturas pagadas (%n)</numerusform>
            <numerusform>Facturas pagadas (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Invoice</source>
        <translation>Factura</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Emitida</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importe pendiente</translation>
    </message>
    <message>
        <source>{amount} (overdue)</source>
        <translation>{amount} (vencido)</translation>
    </message>
    <message>
        <source>Billing period: {start} – {end}</source>
        <translation>Período de facturación: {start} – {end}</translation>
    </message>
    <message>
        <source>Billing Center</source>
        <translation>Centro de facturación</translation>
    </message>
    <message>
        <source>&amp;As seen by:</source>
        <translation>&amp;Visto por:</translation>
    </message>
    <message>
        <source>Contact the Billing Center is shown as</source>
        <translation>Contacto para el que se muestra el Centro de facturación</translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Descubra otros productos</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturas</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>Excluding VAT</source>
        <extracomment>Bar colours, readable on light and dark backgrounds alike. A refresh never shows a progress dialog (the view says it is reading). Ticks of the value axes (at most this many steps above zero).</extracomment>
        <translation>IVA no incluido</translation>
    </message>
    <message>
        <source>{amount} per year</source>
        <translation>{amount} al año</translation>
    </message>
    <message>
        <source>{amount} per month</source>
        <translation>{amount} al mes</translation>
    </message>
    <message>
        <source>Reading the figures…</source>
        <extracomment>A row of a list was activated (Enter, double-click); carries the account id. New figures are shown (after :meth:`refresh`).</extracomment>
        <translation>Leyendo las cifras…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Panel</translation>
    </message>
    <message>
        <source>{month}: {amount} projected from the renewals due (excluding VAT)</source>
        <translation>{month}: {amount} previstos por las renovaciones pendientes (IVA no incluido)</translation>
    </message>
    <message>
        <source>{month}: {amount} invoiced (excluding VAT)</source>
        <translation>{month}: {amount} facturados (IVA no incluido)</translation>
    </message>
    <message>
        <source>&amp;Currency:</source>
        <translation>&amp;Moneda:</translation>
    </message>
    <message>
        <source>The currency of the revenue chart; amounts are never converted</source>
        <translation>La moneda del gráfico de ingresos; los importes nunca se convierten</translation>
    </message>
    <message>
        <source>Invoiced</source>
        <translation>Facturado</translation>
    </message>
    <message>
        <source>Projected from renewals due</source>
        <translation>Previsto por las renovaciones pendientes</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Compradas</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Asignadas</translation>
    </message>
    <message>
        <source>Recurring revenue per month</source>
        <translation>Ingresos recurrentes mensuales</translation>
    </message>
    <message>
        <source>Licences bought and assigned per product</source>
        <translation>Licencias compradas y asignadas por producto</translation>
    </message>
    <message>
        <source>Pending cancellations</source>
        <translation>Cancelaciones pendientes</translation>
    </message>
    <message>
        <source>Renewals in the next {days} days</source>
        <translation>Renovaciones en los próximos {days} días</translation>
    </message>
    <message>
        <source>No subscription is waiting to be cancelled.</source>
        <translation>Ninguna suscripción está pendiente de cancelación.</translation>
    </message>
    <message>
        <source>No subscription renews in the next {days} days.</source>
        <translation>Ninguna suscripción se renueva en los próximos {days} días.</translation>
    </message>
    <message>
        <source>Recurring revenue per month in {currency}, excluding VAT</source>
        <translation>Ingresos recurrentes mensuales en {currency}, IVA no incluido</translation>
    </message>
    <message>
        <source>Figures as of {date}</source>
        <translation>Cifras a fecha de {date}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Pending cancellations (%Ln)</source>
        <translation>
            <numerusform>&amp;Cancelaciones pendientes (%Ln)</numerusform>
            <numerusform>&amp;Cancelaciones pendientes (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Renewals in the next {days} days (%Ln)</source>
        <translation>
            <numerusform>&amp;Renovaciones en los próximos {days} días (%Ln)</numerusform>
            <numerusform>&amp;Renovaciones en los próximos {days} días (%Ln)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln more not shown</source>
        <translation>
            <numerusform>%Ln más sin mostrar</numerusform>
            <numerusform>%Ln más sin mostrar</numerusform>
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
        <translation>No se puede utilizar la base de datos {path}: {detail}</translation>
    </message>
    <message>
        <source>Cannot create the database {path}: the folder is not writable ({detail}).</source>
        <translation>No se puede crear la base de datos {path}: no se puede escribir en la carpeta ({detail}).</translation>
    </message>
    <message>
        <source>The file {path} is not a valid Billing Desktop database or is damaged; it was left untouched.</source>
        <translation>El archivo {path} no es una base de datos válida de Billing Desktop o está dañado; no se ha modificado.</translation>
    </message>
    <message>
        <source>The database {path} was created by a newer version of Billing Desktop (schema {revision}); update the application to open it. The file was left untouched.</source>
        <translation>La base de datos {path} se creó con una versión más reciente de Billing Desktop (esquema {revision}); actualice la aplicación para abrirla. El archivo no se ha modificado.</translation>
    </message>
    <message>
        <source>The database {path} is read-only; copy it to a writable folder or fix its permissions.</source>
        <translation>La base de datos {path} es de solo lectura; cópiela en una carpeta con permiso de escritura o corrija sus permisos.</translation>
    </message>
    <message>
        <source>The database {path} is locked by another program; close it and try again.</source>
        <translation>Otro programa tiene bloqueada la base de datos {path}; ciérrelo y vuelva a intentarlo.</translation>
    </message>
    <message>
        <source>The disk holding the database {path} is full, so nothing was saved. Free some disk space and try again.</source>
        <translation>El disco de la base de datos {path} está lleno, así que no se ha guardado nada. Libere espacio en el disco y vuelva a intentarlo.</translation>
    </message>
    <message>
        <source>The database file {path} cannot be found: it was moved or deleted, or its drive is not connected. Nothing was changed; put the file back and try again.</source>
        <translation>No se encuentra el archivo de base de datos {path}: se ha movido o eliminado, o su unidad no está conectada. No se ha modificado nada; vuelva a colocar el archivo en su sitio y vuelva a intentarlo.</translation>
    </message>
    <message>
        <source>The database {path} could not be read or written (a disk or network error); nothing was saved. Check the drive and try again.</source>
        <translation>No se ha podido leer ni escribir la base de datos {path} (error de disco o de red); no se ha guardado nada. Compruebe la unidad y vuelva a intentarlo.</translation>
    </message>
    <message>
        <source>Cannot connect to the database server {path}: {detail}</source>
        <translation>No se puede conectar con el servidor de base de datos {path}: {detail}</translation>
    </message>
    <message>
        <source>{path} is not a database address Billing Desktop can use: {detail}</source>
        <translation>{path} no es una dirección de base de datos que Billing Desktop pueda utilizar: {detail}</translation>
    </message>
</context>
<context>
    <name>DatabasePage</name>
    <message>
        <source>Database</source>
        <translation>Base de datos</translation>
    </message>
    <message>
        <source>Choose the database file</source>
        <translation>Elegir el archivo de base de datos</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>Bases de datos SQLite (*.sqlite3 *.sqlite *.db);;Todos los archivos (*)</translation>
    </message>
    <message>
        <source>In use now:</source>
        <translation>En uso:</translation>
    </message>
    <message>
        <source>SQLite &amp;file:</source>
        <translation>&amp;Archivo SQLite:</translation>
    </message>
    <message>
        <source>Database &amp;server URL:</source>
        <translation>URL del &amp;servidor de base de datos:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>E&amp;xaminar…</translation>
    </message>
    <message>
        <source>A file that does not exist yet is created as a new, empty database. The application opens the chosen database when you press OK or Apply, and again at every start.</source>
        <translation>Si el archivo no existe, se crea como una base de datos nueva y vacía. La aplicación abre la base de datos elegida al pulsar Aceptar o Aplicar, y de nuevo cada vez que se inicia.</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>DEMO DATABASE</source>
        <extracomment>the banner&apos;s colour: the status bar&apos;s DEMO badge&apos;s</extracomment>
        <translation>BASE DE DATOS DE DEMOSTRACIÓN</translation>
    </message>
    <message>
        <source>Fictitious customers on a simulated date. Reset it or return to a snapshot at any time.</source>
        <translation>Clientes ficticios en una fecha simulada. Puede restablecerla o volver a una instantánea en cualquier momento.</translation>
    </message>
    <message>
        <source>Demo database</source>
        <translation>Base de datos de demostración</translation>
    </message>
</context>
<context>
    <name>DiscoverEntry</name>
    <message>
        <source>Plans: {plans}</source>
        <extracomment>the Buy / Subscribe again button, with the product&apos;s catalog code</extracomment>
        <translation>Planes: {plans}</translation>
    </message>
    <message>
        <source>From {price} per licence per month, with a {days}-day free trial</source>
        <translation>Desde {price} por licencia al mes, con una prueba gratuita de {days} días</translation>
    </message>
    <message>
        <source>From {price} per licence per month</source>
        <translation>Desde {price} por licencia al mes</translation>
    </message>
    <message>
        <source>Ended on {ended}. Its data is kept until {deletion}, then deleted.</source>
        <translation>Finalizó el {ended}. Sus datos se conservan hasta el {deletion} y después se eliminan.</translation>
    </message>
    <message>
        <source>Ended on {ended}.</source>
        <translation>Finalizó el {ended}.</translation>
    </message>
    <message>
        <source>Cannot be bought now: {reason}</source>
        <translation>No se puede comprar ahora: {reason}</translation>
    </message>
    <message>
        <source>Subscribe again</source>
        <translation>Volver a suscribirse</translation>
    </message>
    <message>
        <source>Buy</source>
        <translation>Comprar</translation>
    </message>
    <message>
        <source>Subscribe to {product} again</source>
        <translation>Volver a suscribirse a {product}</translation>
    </message>
    <message>
        <source>Buy {product}</source>
        <translation>Comprar {product}</translation>
    </message>
    <message>
        <source>{product}, cancelled</source>
        <translation>{product}, cancelado</translation>
    </message>
</context>
<context>
    <name>DisputeDialog</name>
    <message>
        <source>Dispute invoice {number}</source>
        <translation>Reclamar la factura {number}</translation>
    </message>
    <message>
        <source>Invoice {number} was issued on {date}; it can be disputed until {deadline}. The dispute is noted on the invoice; nothing is credited automatically.</source>
        <translation>La factura {number} se emitió el {date}; se puede reclamar hasta el {deadline}. La reclamación se anota en la factura; no se abona nada automáticamente.</translation>
    </message>
    <message>
        <source>What does the customer dispute?</source>
        <translation>¿Qué reclama el cliente?</translation>
    </message>
    <message>
        <source>&amp;Note dispute</source>
        <translation>&amp;Registrar reclamación</translation>
    </message>
</context>
<context>
    <name>DomainError</name>
    <message>
        <source>The card number is not valid. Check the digits.</source>
        <extracomment>Latest expiry year accepted, relative to today (cards are issued for ≤ 20 years).</extracomment>
        <translation>El número de tarjeta no es válido. Compruebe los dígitos.</translation>
    </message>
    <message>
        <source>The expiry date {month}/{year} is not valid.</source>
        <translation>La fecha de caducidad {month}/{year} no es válida.</translation>
    </message>
    <message>
        <source>The card expired in {month:02d}/{year}.</source>
        <translation>La tarjeta caducó en {month:02d}/{year}.</translation>
    </message>
    <message>
        <source>This card type is not accepted.</source>
        <translation>No se acepta este tipo de tarjeta.</translation>
    </message>
    <message>
        <source>The IBAN is not valid. Check the digits.</source>
        <translation>El IBAN no es válido. Compruebe los dígitos.</translation>
    </message>
    <message>
        <source>The IBAN does not have a valid format.</source>
        <translation>El IBAN no tiene un formato válido.</translation>
    </message>
    <message>
        <source>{text} is not a valid date (use YYYY-MM-DD, today, or today+/-N followed by d, w, m or y).</source>
        <translation>{text} no es una fecha válida (utilice AAAA-MM-DD, today o today+/-N seguido de d, w, m o y).</translation>
    </message>
    <message>
        <source>Unknown currency code: {currency}.</source>
        <extracomment>Minor-unit exponent (digits after the decimal point) per ISO-4217 code.</extracomment>
        <translation>Código de moneda desconocido: {currency}.</translation>
    </message>
    <message>
        <source>The amount {amount} is not a number.</source>
        <extracomment>Largest magnitude of an amount in minor units: it must fit a signed 64-bit integer column (``|minor| &lt;= 2**63 - 1``).</extracomment>
        <translation>El importe {amount} no es un número.</translation>
    </message>
    <message>
        <source>{amount} is not a valid amount.</source>
        <translation>{amount} no es un importe válido.</translation>
    </message>
    <message>
        <source>The amount {amount} is too large.</source>
        <translation>El importe {amount} es demasiado grande.</translation>
    </message>
    <message>
        <source>A period must end after it starts ({start} – {end}).</source>
        <translation>Un período debe terminar después de empezar ({start} – {end}).</translation>
    </message>
    <message>
        <source>The date is out of the supported range.</source>
        <translation>La fecha está fuera del intervalo admitido.</translation>
    </message>
    <message>
        <source>{day} is before the billing start date {anchor}.</source>
        <translation>{day} es anterior a la fecha de inicio de la facturación, {anchor}.</translation>
    </message>
    <message>
        <source>A fixed term must last at least one month.</source>
        <translation>Un plazo fijo debe durar al menos un mes.</translation>
    </message>
    <message>
        <source>Only a super admin can request cancellation of this product.</source>
        <extracomment>&quot;A fixed-term agreement renews for another term unless cancelled at least 30 days before its end.&quot; &quot;An invoice can be disputed within 15 days of issue.&quot; &quot;Data of a cancelled product is kept 90 days after the effective end date.&quot;</extracomment>
        <translation>Solo un superadministrador puede solicitar la cancelación de este producto.</translation>
    </message>
    <message>
        <source>This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.</source>
        <translation>Este producto se compró a través de un representante: solo un administrador de productos o un administrador de facturación autorizado puede solicitar su cancelación.</translation>
    </message>
    <message>
        <source>Only a super admin or a billing admin can request cancellation.</source>
        <translation>Solo un superadministrador o un administrador de facturación puede solicitar la cancelación.</translation>
    </message>
    <message>
        <source>{on} is not in the current billing period ({start} – {end}).</source>
        <translation>{on} no está dentro del período de facturación actual ({start} – {end}).</translation>
    </message>
    <message>
        <source>A fixed-term agreement needs an end date.</source>
        <translation>Un contrato de plazo fijo necesita una fecha de fin.</translation>
    </message>
    <message>
        <source>Contact your billing admin ({name}, {email}) to make product or licensing changes</source>
        <translation>Póngase en contacto con su administrador de facturación ({name}, {email}) para hacer cambios en los productos o las licencias</translation>
    </message>
    <message>
        <source>This is already the current plan.</source>
        <extracomment>Operator roles that make account changes (SPEC §6); the account/database limits of ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.</extracomment>
        <translation>Este ya es el plan actual.</translation>
    </message>
    <message>
        <source>To move to a lower plan, contact Customer Care</source>
        <translation>Para cambiar a un plan inferior, póngase en contacto con Atención al cliente</translation>
    </message>
    <message>
        <source>At least one licence is required.</source>
        <translation>Se necesita al menos una licencia.</translation>
    </message>
    <message>
        <source>{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.</source>
        <translation>Hay {assigned} licencias asignadas a usuarios. Desasigne licencias antes de reducir el número por debajo de {assigned}.</translation>
    </message>
    <message>
        <source>This plan allows at most {maximum} licences.</source>
        <translation>Este plan admite como máximo {maximum} licencias.</translation>
    </message>
    <message>
        <source>The subscription has expired. Subscribe again before making changes.</source>
        <translation>La suscripción ha caducado. Vuelva a suscribirse antes de hacer cambios.</translation>
    </message>
    <message>
        <source>An overdue invoice must be paid before the plan can be changed.</source>
        <translation>Hay que pagar la factura vencida antes de poder cambiar el plan.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day was {deadline}.</source>
        <translation>Las facturas se pueden reclamar en los 15 días siguientes a su emisión; el último día fue el {deadline}.</translation>
    </message>
    <message>
        <source>Representatives can change only the corporate accounts assigned to them.</source>
        <translation>Los representantes solo pueden modificar las cuentas corporativas que tienen asignadas.</translation>
    </message>
    <message>
        <source>Trainers can make changes only in a demo database.</source>
        <translation>Los formadores solo pueden hacer cambios en una base de datos de demostración.</translation>
    </message>
    <message>
        <source>Your role is read-only.</source>
        <translation>Su rol es de solo lectura.</translation>
    </message>
    <message>
        <source>The change date {on} is before the current billing period starts ({start}).</source>
        <translation>La fecha del cambio, {on}, es anterior al inicio del período de facturación actual ({start}).</translation>
    </message>
    <message>
        <source>The amount must not be negative.</source>
        <translation>El importe no puede ser negativo.</translation>
    </message>
    <message>
        <source>{country} is not a valid country code.</source>
        <translation>{country} no es un código de país válido.</translation>
    </message>
    <message>
        <source>The VAT rate {rate} for {country} is not valid.</source>
        <translation>El tipo de IVA {rate} para {country} no es válido.</translation>
    </message>
    <message>
        <source>The VAT rates file is not valid: {detail}.</source>
        <translation>El archivo de tipos de IVA no es válido: {detail}.</translation>
    </message>
    <message>
        <source>The VAT rates file {path} cannot be read.</source>
        <translation>No se puede leer el archivo de tipos de IVA {path}.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check its format.</source>
        <translation>{number} no es un número de IVA válido para {country}: compruebe el formato.</translation>
    </message>
    <message>
        <source>{number} is not a valid VAT number for {country}: check the digits.</source>
        <translation>{number} no es un número de IVA válido para {country}: compruebe los dígitos.</translation>
    </message>
    <message>
        <source>The VAT number {number} belongs to another country than the billing country {country}.</source>
        <translation>El número de IVA {number} pertenece a un país distinto del país de facturación, {country}.</translation>
    </message>
    <message>
        <source>VAT numbers of {country} cannot be validated.</source>
        <translation>No se pueden validar los números de IVA de {country}.</translation>
    </message>
</context>
<context>
    <name>Email</name>
    <message>
        <source>Your order {order_number} is confirmed</source>
        <extracomment>Translation context of every email text (``QCoreApplication.translate(&quot;Email&quot;, …)``).</extracomment>
        <translation>Su pedido {order_number} está confirmado</translation>
    </message>
    <message>
        <source>Your {product} subscription has been cancelled</source>
        <translation>Su suscripción a {product} se ha cancelado</translation>
    </message>
    <message>
        <source>Your {product} subscription has been reactivated</source>
        <translation>Su suscripción a {product} se ha reactivado</translation>
    </message>
    <message>
        <source>Your {product} trial ends on {trial_end}</source>
        <translation>Su prueba gratuita de {product} finaliza el {trial_end}</translation>
    </message>
    <message>
        <source>Your {product} trial has ended</source>
        <translation>Su prueba gratuita de {product} ha finalizado</translation>
    </message>
    <message>
        <source>Invoice {invoice_number} for your {product} subscription</source>
        <translation>Factura {invoice_number} de su suscripción a {product}</translation>
    </message>
    <message>
        <source>Payment received: {amount}</source>
        <translation>Pago recibido: {amount}</translation>
    </message>
    <message>
        <source>Hello {contact_name},

thank you for your order {order_number}.

{summary}

Invoice {invoice_number}: {total} (amount due now: {amount_due}).
Your next billing date is {next_billing_date}.
</source>
        <extracomment>Bodies; a kind may have variants chosen by :func:`template_for` from its values.</extracomment>
        <translation>Hola, {contact_name}:

Gracias por su pedido {order_number}.

{summary}

Factura {invoice_number}: {total} (importe a pagar ahora: {amount_due}).
Su próxima fecha de facturación es el {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have cancelled the automatic renewal of your {product} subscription. It stays active until {expiry_date}.
You can reactivate it at any time before then.
</source>
        <translation>Hola, {contact_name}:

Hemos cancelado la renovación automática de su suscripción a {product}. Seguirá activa hasta el {expiry_date}.
Puede reactivarla en cualquier momento antes de esa fecha.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription will renew automatically again. Your next billing date is {next_billing_date}.
</source>
        <translation>Hola, {contact_name}:

Su suscripción a {product} volverá a renovarse automáticamente. Su próxima fecha de facturación es el {next_billing_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ends on {trial_end}. Subscribe before then to keep using it.
</source>
        <translation>Hola, {contact_name}:

Su prueba gratuita de {product} finaliza el {trial_end}. Suscríbase antes de esa fecha para seguir utilizándolo.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your free {product} trial ended on {trial_end}. Nothing was charged. You can subscribe at any time.
</source>
        <translation>Hola, {contact_name}:

Su prueba gratuita de {product} finalizó el {trial_end}. No se le ha cobrado nada. Puede suscribirse en cualquier momento.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.
</source>
        <translation>Hola, {contact_name}:

Su suscripción a {product} se ha renovado para el período {period}.
Factura {invoice_number}: {total}. El importe se ha cargado en {charged_to}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.
</source>
        <translation>Hola, {contact_name}:

Su suscripción a {product} se ha renovado para el período {period}.
Factura {invoice_number}: {total}. Le rogamos que pague {amount_due} a más tardar el {due_date}.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

your {product} subscription has renewed for the period {period}.
Invoice {invoice_number}: {total}. It has been paid from your account credit; nothing is due.
</source>
        <translation>Hola, {contact_name}:

Su suscripción a {product} se ha renovado para el período {period}.
Factura {invoice_number}: {total}. Se ha pagado con el saldo a favor de su cuenta; no tiene nada pendiente de pago.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}. Thank you.
</source>
        <translation>Hola, {contact_name}:

Hemos recibido su pago de {amount} correspondiente a {invoice_numbers}. Muchas gracias.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount}. It has been added to your account credit and will pay your next invoices. Thank you.
</source>
        <translation>Hola, {contact_name}:

Hemos recibido su pago de {amount}. Se ha añadido al saldo a favor de su cuenta y se aplicará a sus próximas facturas. Muchas gracias.
</translation>
    </message>
    <message>
        <source>Hello {contact_name},

we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it has been added to your account credit. Thank you.
</source>
        <translation>Hola, {contact_name}:

Hemos recibido su pago de {amount} correspondiente a {invoice_numbers}; {to_credit} se ha añadido al saldo a favor de su cuenta. Muchas gracias.
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
Atentamente,
El equipo de facturación

Cuenta {account_number} · {company_name}
</translation>
    </message>
</context>
<context>
    <name>EmailsModel</name>
    <message>
        <source>Date</source>
        <extracomment>The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.</extracomment>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Asunto</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Para</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Enviado el {when}</translation>
    </message>
    <message>
        <source>Last error: {error}</source>
        <translation>Último error: {error}</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>desconocido</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Próximo intento: {when}</translation>
    </message>
    <message>
        <source>Waiting to be sent</source>
        <translation>Pendiente de envío</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Copia a {addresses}</translation>
    </message>
</context>
<context>
    <name>EmailsTab</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Confirmación de pedido</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Confirmación de cancelación</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Reactivación</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Fin próximo de la prueba</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prueba finalizada</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Factura de renovación</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Pago recibido</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>En cola</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Enviado</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fallido</translation>
    </message>
    <message numerus="yes">
        <source>%n email(s)</source>
        <extracomment>Emitted after a write (failed emails made due again).</extracomment>
        <translation>
            <numerusform>%n correo</numerusform>
            <numerusform>%n correos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s), {failed} failed</source>
        <translation>
            <numerusform>%n correo, {failed} con error</numerusform>
            <numerusform>%n correos, {failed} con error</numerusform>
        </translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Seleccione un correo para leerlo.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, copia a {cc}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Enviado el {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Fallido tras %n intento: {error}</numerusform>
            <numerusform>Fallido tras %n intentos: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Queued since {when}</source>
        <translation>En cola desde {when}</translation>
    </message>
    <message>
        <source>&amp;Retry sending</source>
        <translation>&amp;Reintentar envío</translation>
    </message>
    <message>
        <source>Send the selected failed email again with the next delivery run</source>
        <translation>Volver a enviar el correo fallido seleccionado en la próxima tanda de envíos</translation>
    </message>
    <message>
        <source>No email has been sent to this customer yet.</source>
        <translation>Todavía no se ha enviado ningún correo a este cliente.</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>Para:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Asunto:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Estado:</translation>
    </message>
    <message>
        <source>Emails sent to the customer</source>
        <translation>Correos enviados al cliente</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Texto del correo</translation>
    </message>
</context>
<context>
    <name>EmailsView</name>
    <message>
        <source>Order confirmation</source>
        <extracomment>Translation context of the constant words below.</extracomment>
        <translation>Confirmación de pedido</translation>
    </message>
    <message>
        <source>Cancellation confirmation</source>
        <translation>Confirmación de cancelación</translation>
    </message>
    <message>
        <source>Reactivation</source>
        <translation>Reactivación</translation>
    </message>
    <message>
        <source>Trial ending soon</source>
        <translation>Fin próximo de la prueba</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prueba finalizada</translation>
    </message>
    <message>
        <source>Renewal invoice</source>
        <translation>Factura de renovación</translation>
    </message>
    <message>
        <source>Payment received</source>
        <translation>Pago recibido</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>Pendiente</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Enviado</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fallido</translation>
    </message>
    <message>
        <source>All emails ({count})</source>
        <extracomment>The status filter: (stored statuses or None for all, label source).</extracomment>
        <translation>Todos los correos ({count})</translation>
    </message>
    <message>
        <source>Pending ({count})</source>
        <translation>Pendientes ({count})</translation>
    </message>
    <message>
        <source>Failed ({count})</source>
        <translation>Fallidos ({count})</translation>
    </message>
    <message>
        <source>Not sent yet ({count})</source>
        <translation>Aún no enviados ({count})</translation>
    </message>
    <message>
        <source>Sent ({count})</source>
        <translation>Enviados ({count})</translation>
    </message>
    <message>
        <source>{status}: {error}</source>
        <extracomment>After every reset: how many emails have each status (``{&quot;queued&quot;: n, …}``).</extracomment>
        <translation>{status}: {error}</translation>
    </message>
    <message>
        <source>Copy to {addresses}</source>
        <translation>Copia a {addresses}</translation>
    </message>
    <message>
        <source>{number} · {company}</source>
        <translation>{number} · {company}</translation>
    </message>
    <message>
        <source>Sent on {when}</source>
        <translation>Enviado el {when}</translation>
    </message>
    <message numerus="yes">
        <source>Failed after %n attempt(s): {error}</source>
        <translation>
            <numerusform>Fallido tras %n intento: {error}</numerusform>
            <numerusform>Fallido tras %n intentos: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>sin motivo indicado</translation>
    </message>
    <message>
        <source>Next attempt: {when}</source>
        <translation>Próximo intento: {when}</translation>
    </message>
    <message numerus="yes">
        <source>Pending since {when}; %n earlier attempt(s) failed: {error}</source>
        <translation>
            <numerusform>Pendiente desde {when}; ha fallado %n intento anterior: {error}</numerusform>
            <numerusform>Pendiente desde {when}; han fallado %n intentos anteriores: {error}</numerusform>
        </translation>
    </message>
    <message>
        <source>Pending since {when}</source>
        <translation>Pendiente desde {when}</translation>
    </message>
    <message>
        <source>A mail server is set up.</source>
        <extracomment>the server-level problem (unreachable, login refused), translatable The user wants to see the email&apos;s account; carries the account id. Emitted after emails were made due or delivered (other views may show them).</extracomment>
        <translation>Hay un servidor de correo configurado.</translation>
    </message>
    <message>
        <source>No mail server is set up: emails wait in the outbox.</source>
        <translation>No hay ningún servidor de correo configurado: los correos esperan en la bandeja de salida.</translation>
    </message>
    <message>
        <source>Set up the SMTP server in Settings.</source>
        <translation>Configure el servidor SMTP en Configuración.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln email(s)</source>
        <translation>
            <numerusform>%Ln correo</numerusform>
            <numerusform>%Ln correos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). Nothing was lost.</source>
        <translation>
            <numerusform>%n correo se enviará en cuanto se configure un servidor de correo (Configuración, servidor SMTP). No se ha perdido nada.</numerusform>
            <numerusform>%n correos se enviarán en cuanto se configure un servidor de correo (Configuración, servidor SMTP). No se ha perdido nada.</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox; set up the SMTP server in Settings and send them again.</source>
        <translation>No hay ningún servidor de correo configurado, así que no se ha enviado nada. Los correos se quedan en la bandeja de salida; configure el servidor SMTP en Configuración y vuelva a enviarlos.</translation>
    </message>
    <message>
        <source>No email is due now. Failed emails are tried again at their next attempt time, or select them and choose Retry now.</source>
        <translation>Ahora no hay ningún correo pendiente de envío. Los correos fallidos se reintentan a la hora de su próximo intento; también puede seleccionarlos y elegir Reintentar ahora.</translation>
    </message>
    <message>
        <source>Sending emails</source>
        <translation>Enviando correos</translation>
    </message>
    <message numerus="yes">
        <source>Sending %n email(s) to the mail server…</source>
        <translation>
            <numerusform>Enviando %n correo al servidor de correo…</numerusform>
            <numerusform>Enviando %n correos al servidor de correo…</numerusform>
        </translation>
    </message>
    <message>
        <source>No mail server is set up, so nothing was sent. The emails stay in the outbox.</source>
        <translation>No hay ningún servidor de correo configurado, así que no se ha enviado nada. Los correos se quedan en la bandeja de salida.</translation>
    </message>
    <message numerus="yes">
        <source>The mail server could not be used, so %n email(s) stay in the outbox and will be tried again later. The server said: {error}</source>
        <translation>
            <numerusform>No se ha podido usar el servidor de correo, así que %n correo se queda en la bandeja de salida y se volverá a intentar más tarde. Respuesta del servidor: {error}</numerusform>
            <numerusform>No se ha podido usar el servidor de correo, así que %n correos se quedan en la bandeja de salida y se volverán a intentar más tarde. Respuesta del servidor: {error}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent.</source>
        <translation>
            <numerusform>%n correo enviado.</numerusform>
            <numerusform>%n correos enviados.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n email(s) sent; {failed} refused by the server (see Last error).</source>
        <translation>
            <numerusform>%n correo enviado; el servidor ha rechazado {failed} (consulte Último error).</numerusform>
            <numerusform>%n correos enviados; el servidor ha rechazado {failed} (consulte Último error).</numerusform>
        </translation>
    </message>
    <message>
        <source>Sending was cancelled. The emails sent before are marked sent; the others stay in the outbox.</source>
        <translation>Se ha cancelado el envío. Los correos ya enviados se marcan como enviados; los demás se quedan en la bandeja de salida.</translation>
    </message>
    <message>
        <source>Select an email to read it.</source>
        <translation>Seleccione un correo para leerlo.</translation>
    </message>
    <message>
        <source>No email here yet.</source>
        <translation>Todavía no hay ningún correo.</translation>
    </message>
    <message>
        <source>{to}, copy to {cc}</source>
        <translation>{to}, copia a {cc}</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Mostrar:</translation>
    </message>
    <message>
        <source>&amp;Retry now</source>
        <translation>&amp;Reintentar ahora</translation>
    </message>
    <message>
        <source>Send the selected failed or pending emails now, without waiting</source>
        <translation>Enviar ahora los correos fallidos o pendientes seleccionados, sin esperar</translation>
    </message>
    <message>
        <source>Send &amp;pending now</source>
        <translation>Enviar &amp;pendientes ahora</translation>
    </message>
    <message>
        <source>Send every email that is waiting and due now to the mail server</source>
        <translation>Enviar al servidor de correo todos los correos en espera cuyo envío toca ahora</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>A&amp;brir cuenta</translation>
    </message>
    <message>
        <source>Show the account this email was sent to</source>
        <translation>Mostrar la cuenta a la que se envió este correo</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>Para:</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>Cuenta:</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Asunto:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Estado:</translation>
    </message>
    <message>
        <source>Emails to customers</source>
        <translation>Correos a clientes</translation>
    </message>
    <message>
        <source>Text of the email</source>
        <translation>Texto del correo</translation>
    </message>
</context>
<context>
    <name>GuidePanel</name>
    <message>
        <source>What this step is about is not on the screen yet: do the steps before it first.</source>
        <extracomment>View ▸ Guide: F1, the key people press for help (the Guide is the help a demo offers) what the last Prepare found (a result, or the error reading the account)</extracomment>
        <translation>Lo que indica este paso aún no está en pantalla: haga primero los pasos anteriores.</translation>
    </message>
    <message>
        <source>Choose a walkthrough: it follows a help article step by step on a demo account, and ticks each step as you do it.</source>
        <translation>Elija un recorrido guiado: sigue un artículo de ayuda paso a paso en una cuenta de demostración y marca cada paso a medida que lo realiza.</translation>
    </message>
    <message numerus="yes">
        <source>All %n step(s) done.</source>
        <translation>
            <numerusform>%n paso completado.</numerusform>
            <numerusform>Completados los %n pasos.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done! {outcome}</source>
        <translation>¡Hecho! {outcome}</translation>
    </message>
    <message>
        <source>Step {number} of {total}</source>
        <translation>Paso {number} de {total}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, done: {text}</source>
        <translation>Paso {number} de {total}, hecho: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}, current: {text}</source>
        <translation>Paso {number} de {total}, actual: {text}</translation>
    </message>
    <message>
        <source>Step {number} of {total}: {text}</source>
        <translation>Paso {number} de {total}: {text}</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>Guía</translation>
    </message>
    <message>
        <source>&amp;Guide</source>
        <translation>&amp;Guía</translation>
    </message>
    <message>
        <source>&amp;Walkthrough:</source>
        <translation>&amp;Recorrido:</translation>
    </message>
    <message>
        <source>Choose a walkthrough…</source>
        <translation>Elija un recorrido…</translation>
    </message>
    <message>
        <source>Pr&amp;epare</source>
        <translation>&amp;Preparar</translation>
    </message>
    <message>
        <source>Open the demo account of this walkthrough and start from step 1</source>
        <translation>Abrir la cuenta de demostración de este recorrido y empezar desde el paso 1</translation>
    </message>
    <message>
        <source>Show &amp;me</source>
        <translation>&amp;Mostrarme</translation>
    </message>
    <message>
        <source>Point at what the current step is about</source>
        <translation>Señalar el elemento al que se refiere el paso actual</translation>
    </message>
</context>
<context>
    <name>Invoice</name>
    <message>
        <source>Invoice</source>
        <extracomment>translation context of the invoice&apos;s labels</extracomment>
        <translation>Factura</translation>
    </message>
    <message>
        <source>Invoice number</source>
        <translation>Número de factura</translation>
    </message>
    <message>
        <source>Issue date</source>
        <translation>Fecha de emisión</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Fecha de vencimiento</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Período de servicio</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Bill to</source>
        <translation>Facturar a</translation>
    </message>
    <message>
        <source>Attn. {name}</source>
        <translation>A la atención de {name}</translation>
    </message>
    <message>
        <source>VAT number: {vat_number}</source>
        <translation>Número de IVA: {vat_number}</translation>
    </message>
    <message>
        <source>Purchase order: {po_number}</source>
        <translation>Orden de compra: {po_number}</translation>
    </message>
    <message>
        <source>Payment terms: net {days} days</source>
        <translation>Condiciones de pago: a {days} días</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Descripción</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Período de facturación</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Cantidad</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Precio unitario</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Base imponible</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>IVA {rate}</translation>
    </message>
    <message>
        <source>Reverse charge — VAT to be accounted for by the recipient</source>
        <translation>Inversión del sujeto pasivo — IVA a liquidar por el destinatario</translation>
    </message>
    <message>
        <source>Account credit applied</source>
        <translation>Saldo a favor aplicado</translation>
    </message>
    <message>
        <source>Amount paid</source>
        <translation>Importe pagado</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importe pendiente</translation>
    </message>
    <message>
        <source>Please pay {amount} by {due_date}, quoting invoice number {number}.</source>
        <translation>Le rogamos que pague {amount} a más tardar el {due_date}, indicando el número de factura {number}.</translation>
    </message>
    <message>
        <source>Paid in full. Thank you.</source>
        <translation>Pagada en su totalidad. Muchas gracias.</translation>
    </message>
    <message>
        <source>This invoice has been voided and is not payable.</source>
        <translation>Esta factura se ha anulado y no debe pagarse.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Reclamada el {date}: {note}</translation>
    </message>
    <message>
        <source>VOID</source>
        <translation>ANULADA</translation>
    </message>
    <message>
        <source>Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive).</source>
        <extracomment>Repository layout: ``&lt;root&gt;/resources/vat_rates.json``. An installed application passes its own path to :meth:`VatRates.load`. Wording printed on an invoice under reverse charge (Art. 196 Directive 2006/112/EC).</extracomment>
        <translation>Inversión del sujeto pasivo: el IVA lo liquida el destinatario (artículo 196 de la Directiva del IVA).</translation>
    </message>
</context>
<context>
    <name>InvoiceLinesModel</name>
    <message>
        <source>Service</source>
        <translation>Servicio</translation>
    </message>
    <message>
        <source>Billing period</source>
        <translation>Período de facturación</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Cantidad</translation>
    </message>
    <message>
        <source>Unit price</source>
        <translation>Precio unitario</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
</context>
<context>
    <name>InvoicesListModel</name>
    <message>
        <source>Open</source>
        <extracomment>Translation context of the constant words below. The status filter&apos;s and column&apos;s words, one per ``invoices.status`` value.</extracomment>
        <translation>Abierta</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Vencida</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagada</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Anulada</translation>
    </message>
    <message>
        <source>{status}, disputed</source>
        <extracomment>A disputed invoice&apos;s status: the dispute is noted on the invoice, whatever its status.</extracomment>
        <translation>{status}, reclamada</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>What a row shows in one column: its text, alignment and colour (None: the default). Blocks of rows kept in memory (the rest is read again by id when shown).</extracomment>
        <translation>Número</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de cuenta</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Período de servicio</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Balance due</source>
        <translation>Importe pendiente</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Vencimiento</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Invoice numbers follow the order in which invoices were issued</source>
        <translation>Los números de factura siguen el orden en que se emitieron las facturas</translation>
    </message>
    <message>
        <source>The day the invoice was issued; sort by number for that order</source>
        <translation>El día en que se emitió la factura; ordene por número para seguir ese orden</translation>
    </message>
    <message>
        <source>Sorted by account, then by invoice date within each account</source>
        <translation>Ordenado por cuenta y, dentro de cada cuenta, por fecha de factura</translation>
    </message>
    <message>
        <source>Sorted by company, then by invoice date within each account</source>
        <translation>Ordenado por empresa y, dentro de cada cuenta, por fecha de factura</translation>
    </message>
    <message>
        <source>What is still to pay on the invoice</source>
        <translation>Lo que queda por pagar de la factura</translation>
    </message>
    <message>
        <source>Sorted open first (overdue at the top), then paid, then void</source>
        <translation>Ordenado con las abiertas primero (las vencidas arriba), después las pagadas y por último las anuladas</translation>
    </message>
</context>
<context>
    <name>InvoicesTab</name>
    <message>
        <source>Balance due: {amount}</source>
        <extracomment>a payment or dispute was written: the page reloads what depends on it a dispute note kept after a conflict, offered again by the next Dispute… set while reload() refills the tables: one detail read, not one per table</extracomment>
        <translation>Importe pendiente: {amount}</translation>
    </message>
    <message>
        <source>Nothing is due.</source>
        <translation>No hay nada pendiente.</translation>
    </message>
    <message>
        <source>Account credit: {amount}</source>
        <translation>Saldo a favor: {amount}</translation>
    </message>
    <message numerus="yes">
        <source>&amp;Open invoices (%n)</source>
        <translation>
            <numerusform>Facturas a&amp;biertas (%n)</numerusform>
            <numerusform>Facturas a&amp;biertas (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>P&amp;aid invoices (%n)</source>
        <translation>
            <numerusform>Facturas paga&amp;das (%n)</numerusform>
            <numerusform>Facturas paga&amp;das (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>No open invoices: everything is paid.</source>
        <translation>No hay facturas abiertas: todo está pagado.</translation>
    </message>
    <message>
        <source>Invoice details</source>
        <translation>Detalles de la factura</translation>
    </message>
    <message>
        <source>Select an invoice to see its lines.</source>
        <translation>Seleccione una factura para ver sus líneas.</translation>
    </message>
    <message>
        <source>Invoice {number} of {date}</source>
        <translation>Factura {number} del {date}</translation>
    </message>
    <message>
        <source>VAT (reverse charge)</source>
        <translation>IVA (inversión del sujeto pasivo)</translation>
    </message>
    <message>
        <source>VAT {rate}</source>
        <translation>IVA {rate}</translation>
    </message>
    <message>
        <source>Overdue: was due on {date}.</source>
        <translation>Vencida: vencía el {date}.</translation>
    </message>
    <message>
        <source>Due on {date}.</source>
        <translation>Vence el {date}.</translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Anulada el {date}: {reason}</translation>
    </message>
    <message>
        <source>Paid {amount} on {date} with {method}.</source>
        <translation>Pago de {amount} el {date} con {method}.</translation>
    </message>
    <message>
        <source>VAT reverse charged: customer VAT number {vat}.</source>
        <translation>IVA por inversión del sujeto pasivo: número de IVA del cliente {vat}.</translation>
    </message>
    <message>
        <source>Disputed on {date}: {note}</source>
        <translation>Reclamada el {date}: {note}</translation>
    </message>
    <message>
        <source>Can be disputed until {date}.</source>
        <translation>Se puede reclamar hasta el {date}.</translation>
    </message>
    <message>
        <source>The dispute window closed on {date}.</source>
        <translation>El plazo de reclamación terminó el {date}.</translation>
    </message>
    <message>
        <source>bank transfer</source>
        <translation>transferencia bancaria</translation>
    </message>
    <message>
        <source>A void invoice cannot be disputed.</source>
        <translation>Una factura anulada no se puede reclamar.</translation>
    </message>
    <message>
        <source>Invoices can be disputed within 15 days of issue; the last day for {number} was {date}.</source>
        <translation>Las facturas se pueden reclamar en los 15 días siguientes a su emisión; el último día para {number} fue el {date}.</translation>
    </message>
    <message>
        <source>The default card {method} has expired; add a new card or make another method the default first.</source>
        <translation>La tarjeta predeterminada {method} ha caducado; primero añada una tarjeta nueva o establezca otro método como predeterminado.</translation>
    </message>
    <message>
        <source>Nothing is due on this account.</source>
        <translation>Esta cuenta no tiene nada pendiente.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Su rol puede ver esta cuenta, pero no modificarla.</translation>
    </message>
    <message>
        <source>Pay balance</source>
        <translation>Pagar el saldo</translation>
    </message>
    <message>
        <source>Record a bank transfer of {amount} for account {account}?</source>
        <translation>¿Registrar una transferencia bancaria de {amount} para la cuenta {account}?</translation>
    </message>
    <message>
        <source>Charge {amount} to {method} for account {account}?</source>
        <translation>¿Cargar {amount} en {method} para la cuenta {account}?</translation>
    </message>
    <message>
        <source>The open invoices are paid oldest first and the customer is emailed.</source>
        <translation>Las facturas abiertas se pagan empezando por la más antigua y se envía un correo electrónico al cliente.</translation>
    </message>
    <message>
        <source>&amp;Pay {amount}</source>
        <translation>&amp;Pagar {amount}</translation>
    </message>
    <message>
        <source>{amount} was received with {method}.</source>
        <translation>Pago de {amount} recibido mediante {method}.</translation>
    </message>
    <message numerus="yes">
        <source>%n invoice(s) paid: {numbers}.</source>
        <translation>
            <numerusform>%n factura pagada: {numbers}.</numerusform>
            <numerusform>%n facturas pagadas: {numbers}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{amount} became account credit.</source>
        <translation>{amount} se ha añadido al saldo a favor.</translation>
    </message>
    <message>
        <source>Balance due now: {amount}.</source>
        <translation>Importe pendiente ahora: {amount}.</translation>
    </message>
    <message>
        <source>Payment recorded</source>
        <translation>Pago registrado</translation>
    </message>
    <message>
        <source>A payment confirmation was emailed to the customer.</source>
        <translation>Se ha enviado al cliente una confirmación del pago por correo electrónico.</translation>
    </message>
    <message>
        <source>The dispute was noted on invoice {number}.</source>
        <translation>La reclamación se ha anotado en la factura {number}.</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Preparando la factura {number}…</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>No se ha podido abrir ningún visor de PDF; la factura está en {path}.</translation>
    </message>
    <message>
        <source>Save invoice as PDF</source>
        <translation>Guardar la factura como PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>Archivos PDF (*.pdf)</translation>
    </message>
    <message>
        <source>Invoice {number} was saved to {path}.</source>
        <translation>La factura {number} se ha guardado en {path}.</translation>
    </message>
    <message>
        <source>Saving invoice {number}…</source>
        <translation>Guardando la factura {number}…</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} is not writable. Choose another folder and save again.</source>
        <translation>No se ha guardado la factura {number}: no se puede escribir en la carpeta {folder}. Elija otra carpeta y vuelva a guardarla.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the folder {folder} does not exist. Choose another folder and save again.</source>
        <translation>No se ha guardado la factura {number}: la carpeta {folder} no existe. Elija otra carpeta y vuelva a guardarla.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved: the disk is full. Free some space or choose another folder and save again.</source>
        <translation>No se ha guardado la factura {number}: el disco está lleno. Libere espacio o elija otra carpeta y vuelva a guardarla.</translation>
    </message>
    <message>
        <source>Invoice {number} was not saved to {folder} ({error}). Choose another folder and save again.</source>
        <translation>No se ha guardado la factura {number} en {folder} ({error}). Elija otra carpeta y vuelva a guardarla.</translation>
    </message>
    <message>
        <source>The PDF could not be written: {error}</source>
        <translation>No se ha podido escribir el PDF: {error}</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Cancelado; no se ha escrito ningún archivo.</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>PDF de la factura</translation>
    </message>
    <message>
        <source>Pay &amp;balance…</source>
        <translation>Pagar el &amp;saldo…</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Abrir &amp;PDF</translation>
    </message>
    <message>
        <source>&amp;Save PDF…</source>
        <translation>&amp;Guardar PDF…</translation>
    </message>
    <message>
        <source>&amp;Dispute…</source>
        <translation>&amp;Reclamar…</translation>
    </message>
    <message>
        <source>Subtotal</source>
        <translation>Base imponible</translation>
    </message>
    <message>
        <source>VAT</source>
        <translation>IVA</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Account credit used</source>
        <translation>Saldo a favor utilizado</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagado</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importe pendiente</translation>
    </message>
</context>
<context>
    <name>InvoicesTableModel</name>
    <message>
        <source>Open</source>
        <extracomment>(status, overdue, disputed) → the status column&apos;s words</extracomment>
        <translation>Abierta</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>Vencida</translation>
    </message>
    <message>
        <source>Open, disputed</source>
        <translation>Abierta, reclamada</translation>
    </message>
    <message>
        <source>Overdue, disputed</source>
        <translation>Vencida, reclamada</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Pagada</translation>
    </message>
    <message>
        <source>Paid, disputed</source>
        <translation>Pagada, reclamada</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>Anulada</translation>
    </message>
    <message>
        <source>Void, disputed</source>
        <translation>Anulada, reclamada</translation>
    </message>
    <message>
        <source>Number</source>
        <extracomment>sort order of the statuses: what needs attention first A value that sorts the column correctly (ints and strings only).</extracomment>
        <translation>Número</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Service period</source>
        <translation>Período de servicio</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Descripción</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Amount due</source>
        <translation>Importe pendiente</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message numerus="yes">
        <source>{description} (+%n more)</source>
        <comment>invoice lines</comment>
        <translation>
            <numerusform>{description} (+%n más)</numerusform>
            <numerusform>{description} (+%n más)</numerusform>
        </translation>
    </message>
    <message>
        <source>Voided on {date}: {reason}</source>
        <translation>Anulada el {date}: {reason}</translation>
    </message>
    <message>
        <source>Was due on {date}</source>
        <translation>Vencía el {date}</translation>
    </message>
    <message>
        <source>Due on {date}</source>
        <translation>Vence el {date}</translation>
    </message>
</context>
<context>
    <name>InvoicesView</name>
    <message>
        <source>The PDF could not be written: {error}</source>
        <extracomment>Typing pause before a text or date filter is applied, in milliseconds. The lowest date of the range edits: shown as &quot;Any date&quot; and read as no limit. The user chose an invoice (Enter, double-click, &quot;Open account&quot;): its account&apos;s id. The filter bar&apos;s and the action row&apos;s widgets, built right after the first paint (:meth:`_build_filters`) or when first used, whichever comes first. painted right after the table&apos;s first page: the list is what the user waits for</extracomment>
        <translation>No se ha podido escribir el PDF: {error}</translation>
    </message>
    <message>
        <source>Invoice PDF</source>
        <translation>PDF de la factura</translation>
    </message>
    <message>
        <source>Preparing invoice {number}…</source>
        <translation>Preparando la factura {number}…</translation>
    </message>
    <message>
        <source>Cancelled; no file was written.</source>
        <translation>Cancelado; no se ha escrito ningún archivo.</translation>
    </message>
    <message>
        <source>No PDF viewer could be started; the invoice is at {path}.</source>
        <translation>No se ha podido abrir ningún visor de PDF; la factura está en {path}.</translation>
    </message>
    <message numerus="yes">
        <source>%Ln invoice(s)</source>
        <translation>
            <numerusform>%Ln factura</numerusform>
            <numerusform>%Ln facturas</numerusform>
        </translation>
    </message>
    <message>
        <source>No invoices match the filters.</source>
        <translation>Ninguna factura coincide con los filtros.</translation>
    </message>
    <message>
        <source>Clear all filters</source>
        <translation>Quitar todos los filtros</translation>
    </message>
    <message>
        <source>No invoices yet.</source>
        <translation>Todavía no hay facturas.</translation>
    </message>
    <message>
        <source>Invoices appear here as soon as orders or renewals are billed.</source>
        <translation>Las facturas aparecen aquí en cuanto se facturan pedidos o renovaciones.</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>&amp;Cuenta:</translation>
    </message>
    <message>
        <source>Account ID or company</source>
        <translation>ID de cuenta o empresa</translation>
    </message>
    <message>
        <source>Type the start of an account ID or of a company name (Ctrl+F)</source>
        <translation>Escriba el principio de un ID de cuenta o del nombre de una empresa (Ctrl+F)</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Estado:</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Cualquier estado</translation>
    </message>
    <message>
        <source>Show only invoices with this status</source>
        <translation>Mostrar solo las facturas con este estado</translation>
    </message>
    <message>
        <source>Over&amp;due only</source>
        <translation>Solo venci&amp;das</translation>
    </message>
    <message>
        <source>Show only open invoices past their due date</source>
        <translation>Mostrar solo las facturas abiertas que han superado su fecha de vencimiento</translation>
    </message>
    <message>
        <source>&amp;Issued from:</source>
        <translation>Emitidas de&amp;sde:</translation>
    </message>
    <message>
        <source>&amp;to:</source>
        <translation>&amp;hasta:</translation>
    </message>
    <message>
        <source>Any date</source>
        <translation>Cualquier fecha</translation>
    </message>
    <message>
        <source>The invoice date; Delete sets it back to any date</source>
        <translation>La fecha de la factura; Supr la vuelve a poner en cualquier fecha</translation>
    </message>
    <message>
        <source>C&amp;lear filters</source>
        <translation>&amp;Limpiar filtros</translation>
    </message>
    <message>
        <source>&amp;Open account</source>
        <translation>A&amp;brir cuenta</translation>
    </message>
    <message>
        <source>Open the account of the selected invoice</source>
        <translation>Abrir la cuenta de la factura seleccionada</translation>
    </message>
    <message>
        <source>Open account</source>
        <translation>Abrir cuenta</translation>
    </message>
    <message>
        <source>Open &amp;PDF</source>
        <translation>Abrir &amp;PDF</translation>
    </message>
    <message>
        <source>Show the selected invoice as a PDF</source>
        <translation>Mostrar la factura seleccionada en PDF</translation>
    </message>
    <message>
        <source>Open PDF</source>
        <translation>Abrir PDF</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturas</translation>
    </message>
</context>
<context>
    <name>LanguagePage</name>
    <message>
        <source>Language</source>
        <extracomment>The usual port of each kind of connection security, offered when it changes. Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about. The user changed something on the page (the dialog enables Apply).</extracomment>
        <translation>Idioma</translation>
    </message>
    <message>
        <source>&amp;Language of the application:</source>
        <translation>&amp;Idioma de la aplicación:</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Idioma del sistema</translation>
    </message>
    <message>
        <source>The new language is used at once and at every start. Customer emails and invoices keep the language of each account.</source>
        <translation>El nuevo idioma se aplica de inmediato y cada vez que se inicia la aplicación. Los correos y las facturas de los clientes mantienen el idioma de cada cuenta.</translation>
    </message>
</context>
<context>
    <name>LicencesModel</name>
    <message>
        <source>Contact</source>
        <extracomment>The :class:`ContactSeats` of a row (any column). The subscription id of a column (header data and cells).</extracomment>
        <translation>Contacto</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Correo electrónico</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Roles</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <extracomment>Emitted whenever the staged changes (and so the free seats) change. (contact id, subscription id) → wanted; only cells differing from base</extracomment>
        <translation>{name} (contacto de facturación)</translation>
    </message>
    <message numerus="yes">
        <source>%n too many for {licences} licences</source>
        <translation>
            <numerusform>%n de más para {licences} licencias</numerusform>
            <numerusform>%n de más para {licences} licencias</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n of {licences} free</source>
        <extracomment>Emitted after changes were written (some may have been, even if others failed).</extracomment>
        <translation>
            <numerusform>%n de {licences} libre</numerusform>
            <numerusform>%n de {licences} libres</numerusform>
        </translation>
    </message>
    <message>
        <source>{product} ({plan})</source>
        <translation>{product} ({plan})</translation>
    </message>
    <message>
        <source>{product}, {plan} plan, {status}: {assigned} of {licences} assigned</source>
        <translation>{product}, plan {plan}, {status}: {assigned} de {licences} asignadas</translation>
    </message>
    <message>
        <source>{name} gets a licence of {product} when you apply.</source>
        <translation>{name} recibirá una licencia de {product} al aplicar los cambios.</translation>
    </message>
    <message>
        <source>{name} loses the licence of {product} when you apply.</source>
        <translation>{name} perderá la licencia de {product} al aplicar los cambios.</translation>
    </message>
    <message>
        <source>No licence of {product} is free. Buy more licences or unassign someone first.</source>
        <translation>No queda ninguna licencia de {product} libre. Compre más licencias o primero desasigne alguna.</translation>
    </message>
    <message>
        <source>{product}
{seats}</source>
        <translation>{product}
{seats}</translation>
    </message>
    <message>
        <source>{name}: licence of {product}</source>
        <translation>{name}: licencia de {product}</translation>
    </message>
</context>
<context>
    <name>LicencesTab</name>
    <message>
        <source>Trial</source>
        <extracomment>Translation context of the constant words below. Statuses of the subscriptions shown here (live ones only).</extracomment>
        <translation>Prueba</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Activa</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Cancelación pendiente</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Sin registrar</translation>
    </message>
    <message>
        <source>{name} (billing contact)</source>
        <translation>{name} (contacto de facturación)</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) not applied yet</source>
        <translation>
            <numerusform>%n cambio aún sin aplicar</numerusform>
            <numerusform>%n cambios aún sin aplicar</numerusform>
        </translation>
    </message>
    <message>
        <source>Changes applied.</source>
        <translation>Cambios aplicados.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>Solici&amp;tado por:</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded in the activity</source>
        <translation>El contacto que ha pedido el cambio; queda registrado en la actividad</translation>
    </message>
    <message>
        <source>&amp;Revert</source>
        <translation>&amp;Descartar</translation>
    </message>
    <message>
        <source>Forget the changes not applied yet</source>
        <translation>Descartar los cambios aún sin aplicar</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>A&amp;plicar</translation>
    </message>
    <message>
        <source>Assign and unassign the licences as ticked</source>
        <translation>Asignar y desasignar las licencias según las casillas marcadas</translation>
    </message>
    <message>
        <source>This account has no subscription in trial or active, so there are no licences to assign.</source>
        <translation>Esta cuenta no tiene ninguna suscripción en prueba ni activa, así que no hay licencias que asignar.</translation>
    </message>
    <message>
        <source>Licences of each contact</source>
        <translation>Licencias de cada contacto</translation>
    </message>
    <message>
        <source>Assign all users</source>
        <translation>Asignar a todos los usuarios</translation>
    </message>
    <message>
        <source>Tick every contact for {product}</source>
        <translation>Marcar todos los contactos para {product}</translation>
    </message>
    <message>
        <source>Assign all users to {product}</source>
        <translation>Asignar una licencia de {product} a todos los usuarios</translation>
    </message>
    <message>
        <source>Unassign all</source>
        <translation>Desasignar todas</translation>
    </message>
    <message>
        <source>Clear every contact for {product}</source>
        <translation>Desmarcar todos los contactos para {product}</translation>
    </message>
    <message>
        <source>Unassign all users from {product}</source>
        <translation>Quitar la licencia de {product} a todos los usuarios</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Administrator</source>
        <translation>Administrador</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>Soporte</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Representante</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>Formador</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>Solo lectura</translation>
    </message>
    <message>
        <source>Accounts</source>
        <extracomment>After the first paint, when the trainer&apos;s tools and presentation mode are added. How often the status bar re-reads the date (midnight, a moved demo clock). the view class, or &quot;module:Class&quot; imported when the view is first shown (the charts library, for one, costs start-up time nobody should pay before looking at the dashboard) The views, in navigation order. Add an entry when a view lands; never before (an entry that does nothing is worse than none).</extracomment>
        <translation>Cuentas</translation>
    </message>
    <message>
        <source>Invoices</source>
        <translation>Facturas</translation>
    </message>
    <message>
        <source>Emails</source>
        <translation>Correos</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Panel</translation>
    </message>
    <message>
        <source>Operator: {name} ({role})</source>
        <extracomment>The user asked for the demo database (welcome page, empty state or File menu). the Settings dialog chose another database (a file path or a server URL) the sandbox menu, simulated clock, guide and presentation mode are in place View ▸ Accounts, Invoices, … by view key View ▸ Language ▸ each language by code the views built so far; each is built when first shown the account shown, if any (one at a time, built when opened)</extracomment>
        <translation>Operador: {name} ({role})</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Base de datos: {name}</translation>
    </message>
    <message>
        <source>Today: {date} (simulated)</source>
        <translation>Hoy: {date} (simulado)</translation>
    </message>
    <message>
        <source>This database runs on a simulated date, not on the computer&apos;s clock.</source>
        <translation>Esta base de datos funciona con una fecha simulada, no con el reloj del equipo.</translation>
    </message>
    <message>
        <source>Today: {date}</source>
        <translation>Hoy: {date}</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;A back-office for software-subscription billing.&lt;/p&gt;&lt;p&gt;Database: {database}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Billing Desktop {version}&lt;/h3&gt;&lt;p&gt;Un back-office para la facturación de suscripciones de software.&lt;/p&gt;&lt;p&gt;Base de datos: {database}&lt;/p&gt;</translation>
    </message>
    <message>
        <source>About Billing Desktop</source>
        <translation>Acerca de Billing Desktop</translation>
    </message>
    <message>
        <source>{database} (demo)</source>
        <translation>{database} (demostración)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Archivo</translation>
    </message>
    <message>
        <source>Open &amp;Demo Database</source>
        <translation>Abrir base de datos de &amp;demostración</translation>
    </message>
    <message>
        <source>Switch to the demo database with sample accounts</source>
        <translation>Cambiar a la base de datos de demostración con cuentas de ejemplo</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ver</translation>
    </message>
    <message>
        <source>&amp;Find Account…</source>
        <translation>&amp;Buscar cuenta…</translation>
    </message>
    <message>
        <source>Find an account by ID, company, contact name or email, or invoice number</source>
        <translation>Buscar una cuenta por ID, empresa, nombre o correo electrónico de un contacto, o número de factura</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Configuración</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Configuración…</translation>
    </message>
    <message>
        <source>Language, database, mail server, theme and operator identity</source>
        <translation>Idioma, base de datos, servidor de correo, tema e identidad del operador</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Idioma</translation>
    </message>
    <message>
        <source>Show &amp;Navigation</source>
        <translation>Mostrar &amp;navegación</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Actualizar</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>Ay&amp;uda</translation>
    </message>
    <message>
        <source>&amp;About Billing Desktop</source>
        <translation>&amp;Acerca de Billing Desktop</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>Navegación</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DEMO</translation>
    </message>
    <message>
        <source>A demo database: fictitious customers and a simulated date.</source>
        <translation>Una base de datos de demostración: clientes ficticios y una fecha simulada.</translation>
    </message>
</context>
<context>
    <name>MissingDatabase</name>
    <message>
        <source>The database {path} cannot be found.</source>
        <translation>No se encuentra la base de datos {path}.</translation>
    </message>
    <message>
        <source>It was moved or deleted, or its drive or network share is not connected. Nothing was created in its place, and Billing Desktop looks for it again at the next start. You can open the default database for now, choose another database file, or quit and connect the drive first.</source>
        <translation>Se ha movido o eliminado, o su unidad o recurso compartido de red no está conectado. No se ha creado nada en su lugar y Billing Desktop volverá a buscarla en el próximo inicio. Por ahora puede abrir la base de datos predeterminada, elegir otro archivo de base de datos o salir y conectar primero la unidad.</translation>
    </message>
    <message>
        <source>Open the &amp;default database</source>
        <translation>Abrir la base de datos &amp;predeterminada</translation>
    </message>
    <message>
        <source>&amp;Choose another file…</source>
        <translation>&amp;Elegir otro archivo…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <source>Open a database file</source>
        <translation>Abrir un archivo de base de datos</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db)</source>
        <translation>Bases de datos SQLite (*.sqlite3 *.sqlite *.db)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Todos los archivos (*)</translation>
    </message>
</context>
<context>
    <name>OperatorAdminMenu</name>
    <message>
        <source>&amp;Operators…</source>
        <translation>&amp;Operadores…</translation>
    </message>
    <message>
        <source>Create operators, set their roles and assign representatives</source>
        <translation>Crear operadores, definir sus roles y asignar representantes</translation>
    </message>
    <message>
        <source>Only administrators manage operators</source>
        <translation>Solo los administradores gestionan los operadores</translation>
    </message>
</context>
<context>
    <name>OperatorFormDialog</name>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <extracomment>None: a new operator; else the operator whose password is reset the service&apos;s answer (the new or changed ``OperatorRow``) once accepted</extracomment>
        <translation>Las dos contraseñas no coinciden; vuelva a escribirla.</translation>
    </message>
    <message>
        <source>New Operator</source>
        <translation>Nuevo operador</translation>
    </message>
    <message>
        <source>The new operator signs in with this email address and password. Tell them the password in person or by phone, not by email.</source>
        <translation>El nuevo operador inicia sesión con este correo electrónico y esta contraseña. Comuníquele la contraseña en persona o por teléfono, no por correo electrónico.</translation>
    </message>
    <message>
        <source>&amp;Create Operator</source>
        <translation>Crear o&amp;perador</translation>
    </message>
    <message>
        <source>Reset Password</source>
        <translation>Restablecer contraseña</translation>
    </message>
    <message>
        <source>A new password for {name} ({email}). It also lifts a lock after failed sign-ins. Tell them the password in person or by phone, not by email.</source>
        <translation>Una contraseña nueva para {name} ({email}). También quita el bloqueo tras varios intentos fallidos de inicio de sesión. Comuníquele la contraseña en persona o por teléfono, no por correo electrónico.</translation>
    </message>
    <message>
        <source>&amp;Set Password</source>
        <translation>&amp;Establecer contraseña</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nombre:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;Correo electrónico:</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>&amp;Rol:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>C&amp;ontraseña:</translation>
    </message>
    <message>
        <source>R&amp;epeat password:</source>
        <translation>Repe&amp;tir contraseña:</translation>
    </message>
    <message>
        <source>At least {count} characters, not the email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Al menos {count} caracteres, y que no sea el correo electrónico. Unas cuantas palabras sin relación entre sí forman una buena contraseña, fácil de recordar.</translation>
    </message>
</context>
<context>
    <name>OperatorPage</name>
    <message>
        <source>Operator</source>
        <translation>Operador</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Su &amp;nombre:</translation>
    </message>
    <message>
        <source>Your &amp;email:</source>
        <translation>Su &amp;correo electrónico:</translation>
    </message>
    <message>
        <source>Role:</source>
        <translation>Rol:</translation>
    </message>
    <message>
        <source>Shown in the status bar and recorded with every change you make in this database.</source>
        <translation>Se muestra en la barra de estado y se registra con cada cambio que haga en esta base de datos.</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>&amp;Enable</source>
        <translation>&amp;Activar</translation>
    </message>
    <message>
        <source>&amp;Disable…</source>
        <translation>&amp;Desactivar…</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>No puede desactivar su propio acceso; puede hacerlo otro administrador.</translation>
    </message>
    <message>
        <source>Created the operator {name} ({role}).</source>
        <translation>Se ha creado el operador {name} ({role}).</translation>
    </message>
    <message>
        <source>Change Role</source>
        <translation>Cambiar rol</translation>
    </message>
    <message>
        <source>Role of {name}:</source>
        <translation>Rol de {name}:</translation>
    </message>
    <message>
        <source>&amp;Change Role</source>
        <translation>&amp;Cambiar rol</translation>
    </message>
    <message>
        <source>{name} is now {role}.</source>
        <translation>{name} tiene ahora el rol {role}.</translation>
    </message>
    <message>
        <source>Disable Operator</source>
        <translation>Desactivar operador</translation>
    </message>
    <message>
        <source>Disable {name} ({email})?</source>
        <translation>¿Desactivar a {name} ({email})?</translation>
    </message>
    <message>
        <source>They can no longer sign in. Their work and the audit trail are kept, and you can enable them again at any time.</source>
        <translation>Ya no podrá iniciar sesión. Su trabajo y el registro de auditoría se conservan, y puede volver a activarlo en cualquier momento.</translation>
    </message>
    <message>
        <source>&amp;Disable</source>
        <translation>&amp;Desactivar</translation>
    </message>
    <message>
        <source>Enabled {name}.</source>
        <translation>Se ha activado a {name}.</translation>
    </message>
    <message>
        <source>Disabled {name}.</source>
        <translation>Se ha desactivado a {name}.</translation>
    </message>
    <message>
        <source>Set a new password for {name}.</source>
        <translation>Se ha establecido una contraseña nueva para {name}.</translation>
    </message>
    <message>
        <source>There is no active representative yet. Create an operator with the role Representative first.</source>
        <translation>Todavía no hay ningún representante activo. Primero cree un operador con el rol Representante.</translation>
    </message>
    <message>
        <source>Assign Representative</source>
        <translation>Asignar representante</translation>
    </message>
    <message>
        <source>Representative of {company} ({account}):</source>
        <translation>Representante de {company} ({account}):</translation>
    </message>
    <message>
        <source>&amp;Assign</source>
        <translation>&amp;Asignar</translation>
    </message>
    <message>
        <source>{account} no longer has a representative.</source>
        <translation>{account} ya no tiene representante.</translation>
    </message>
    <message>
        <source>{name} is now the representative of {account}.</source>
        <translation>{name} es ahora el representante de {account}.</translation>
    </message>
    <message>
        <source>Operators</source>
        <translation>Operadores</translation>
    </message>
    <message>
        <source>&amp;Operators</source>
        <translation>&amp;Operadores</translation>
    </message>
    <message>
        <source>&amp;Corporate Accounts</source>
        <translation>Cuentas &amp;corporativas</translation>
    </message>
    <message>
        <source>&amp;New Operator…</source>
        <translation>&amp;Nuevo operador…</translation>
    </message>
    <message>
        <source>Change &amp;Role…</source>
        <translation>Cambiar &amp;rol…</translation>
    </message>
    <message>
        <source>Reset &amp;Password…</source>
        <translation>Restablecer con&amp;traseña…</translation>
    </message>
    <message>
        <source>&amp;Assign Representative…</source>
        <translation>A&amp;signar representante…</translation>
    </message>
    <message>
        <source>Re&amp;move Representative</source>
        <translation>&amp;Quitar representante</translation>
    </message>
    <message>
        <source>Search by company name or account ID</source>
        <translation>Buscar por nombre de empresa o ID de cuenta</translation>
    </message>
    <message>
        <source>No corporate account matches.</source>
        <translation>Ninguna cuenta corporativa coincide.</translation>
    </message>
    <message>
        <source>Corporate accounts</source>
        <translation>Cuentas corporativas</translation>
    </message>
</context>
<context>
    <name>OperatorsModel</name>
    <message>
        <source>Name</source>
        <extracomment>the search waits for a pause in typing</extracomment>
        <translation>Nombre</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Correo electrónico</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rol</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Last sign-in</source>
        <translation>Último acceso</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Desactivado</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Bloqueado</translation>
    </message>
    <message>
        <source>No password</source>
        <translation>Sin contraseña</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Activo</translation>
    </message>
    <message>
        <source>Cannot sign in until an administrator enables it.</source>
        <translation>No puede iniciar sesión hasta que un administrador lo active.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.</source>
        <translation>Demasiados intentos fallidos de inicio de sesión: bloqueado hasta el {time}. Al restablecer la contraseña se desbloquea.</translation>
    </message>
    <message>
        <source>Has no password, so cannot sign in to a shared database. Reset the password to give one.</source>
        <translation>No tiene contraseña, así que no puede iniciar sesión en una base de datos compartida. Restablezca la contraseña para asignarle una.</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nunca</translation>
    </message>
</context>
<context>
    <name>OutboxModel</name>
    <message>
        <source>Created</source>
        <extracomment>Emails handed to one ``deliver_outbox`` call; progress is reported between batches.</extracomment>
        <translation>Creado</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Destinatario</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Asunto</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Intentos</translation>
    </message>
    <message>
        <source>Next attempt</source>
        <translation>Próximo intento</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Company &amp;name</source>
        <extracomment>Form labels with their mnemonics (Alt+letter), chosen not to clash with the main window&apos;s menus (F, V, H) nor the page&apos;s tab keys (Alt+1 … Alt+7).</extracomment>
        <translation>&amp;Nombre de la empresa</translation>
    </message>
    <message>
        <source>Account &amp;type</source>
        <translation>&amp;Tipo de cuenta</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>&amp;Dirección</translation>
    </message>
    <message>
        <source>Addr&amp;ess line 2</source>
        <translation>Dir&amp;ección (línea 2)</translation>
    </message>
    <message>
        <source>&amp;Postal code</source>
        <translation>Código &amp;postal</translation>
    </message>
    <message>
        <source>&amp;City</source>
        <translation>&amp;Ciudad</translation>
    </message>
    <message>
        <source>Re&amp;gion</source>
        <translation>&amp;Región</translation>
    </message>
    <message>
        <source>Countr&amp;y</source>
        <translation>Paí&amp;s</translation>
    </message>
    <message>
        <source>VAT n&amp;umber</source>
        <translation>Número de &amp;IVA</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>Idi&amp;oma</translation>
    </message>
    <message>
        <source>Cu&amp;rrency</source>
        <translation>&amp;Moneda</translation>
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
        <translation>Nombre</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Correo electrónico</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>Roles</translation>
    </message>
    <message>
        <source>The billing contact may change plans and receives the invoices.</source>
        <translation>El contacto de facturación puede cambiar de plan y recibe las facturas.</translation>
    </message>
    <message>
        <source>Payment methods</source>
        <extracomment>Emitted after a successful save. The user followed a link to another tab of the page (e.g. &quot;payment_methods&quot;). the data the fields were filled from, and whose version a save is checked against a save was refused because the account changed elsewhere</extracomment>
        <translation>Métodos de pago</translation>
    </message>
    <message>
        <source>On: renewal invoices are paid from the default payment method.</source>
        <translation>Activado: las facturas de renovación se pagan con el método de pago predeterminado.</translation>
    </message>
    <message>
        <source>Off: renewal invoices stay open until they are paid.</source>
        <translation>Desactivado: las facturas de renovación quedan abiertas hasta que se pagan.</translation>
    </message>
    <message>
        <source>{state} Change it in {link}.</source>
        <translation>{state} Puede cambiarlo en {link}.</translation>
    </message>
    <message>
        <source>Net {days} (invoices are due {days} days after issue)</source>
        <translation>A {days} días (las facturas vencen {days} días después de su emisión)</translation>
    </message>
    <message>
        <source>Due on receipt</source>
        <translation>Al recibo de la factura</translation>
    </message>
    <message>
        <source>Not assigned</source>
        <translation>Sin asignar</translation>
    </message>
    <message>
        <source>None (standard accounts are self-service)</source>
        <translation>Ninguno (las cuentas estándar son de autoservicio)</translation>
    </message>
    <message>
        <source>The billing contact (in bold) is {name}. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>El contacto de facturación (en negrita) es {name}. Los contactos y sus licencias se gestionan en Usuarios y licencias.</translation>
    </message>
    <message>
        <source>The account has no billing contact. Contacts and their seats are managed in Users &amp; licences.</source>
        <translation>La cuenta no tiene contacto de facturación. Los contactos y sus licencias se gestionan en Usuarios y licencias.</translation>
    </message>
    <message>
        <source>The currency cannot change: the account has invoices or credit in it.</source>
        <translation>No se puede cambiar la moneda: la cuenta ya tiene facturas o saldo a favor en ella.</translation>
    </message>
    <message>
        <source>The currency can change until the first invoice.</source>
        <translation>La moneda se puede cambiar hasta la primera factura.</translation>
    </message>
    <message>
        <source>No payment method on file</source>
        <translation>No hay ningún método de pago registrado</translation>
    </message>
    <message>
        <source>Card</source>
        <translation>Tarjeta</translation>
    </message>
    <message>
        <source>{brand} ending {last4}, expires {month}/{year}</source>
        <translation>{brand} terminada en {last4}, caduca {month}/{year}</translation>
    </message>
    <message>
        <source>{brand} ending {last4}</source>
        <translation>{brand} terminada en {last4}</translation>
    </message>
    <message>
        <source>Bank account ending {last4}</source>
        <translation>Cuenta bancaria terminada en {last4}</translation>
    </message>
    <message>
        <source>Pays by invoice</source>
        <translation>Paga mediante factura</translation>
    </message>
    <message>
        <source>Standard accounts are self-service: {name} will no longer be their representative.</source>
        <translation>Las cuentas estándar son de autoservicio: {name} dejará de ser su representante.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice and are looked after by a representative.</source>
        <translation>Las cuentas corporativas pagan mediante factura y las gestiona un representante.</translation>
    </message>
    <message>
        <source>This account was changed by {operator} at {time}. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>{operator} modificó esta cuenta el {time}. Sus cambios se conservan; Recargar muestra los datos actuales y los descarta.</translation>
    </message>
    <message>
        <source>This account was changed elsewhere. Your edits are kept; Reload shows the current data and discards them.</source>
        <translation>Otra persona ha modificado esta cuenta. Sus cambios se conservan; Recargar muestra los datos actuales y los descarta.</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Dirección de facturación</translation>
    </message>
    <message>
        <source>Tax and documents</source>
        <translation>Impuestos y documentos</translation>
    </message>
    <message>
        <source>Balances and billing</source>
        <translation>Saldos y facturación</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Contactos</translation>
    </message>
    <message>
        <source>{label} *</source>
        <translation>{label} *</translation>
    </message>
    <message>
        <source>Optional, e.g. NL123456789B01</source>
        <translation>Opcional, p. ej., ESB12345674</translation>
    </message>
    <message>
        <source>Checked for the billing country as you type; leave empty if there is none.</source>
        <translation>Se comprueba para el país de facturación mientras escribe; déjelo vacío si no hay ninguno.</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Opcional</translation>
    </message>
    <message>
        <source>Outstanding balance</source>
        <translation>Saldo pendiente</translation>
    </message>
    <message>
        <source>Account credit</source>
        <translation>Saldo a favor</translation>
    </message>
    <message>
        <source>Autopay</source>
        <translation>Pago automático</translation>
    </message>
    <message>
        <source>Default payment method</source>
        <translation>Método de pago predeterminado</translation>
    </message>
    <message>
        <source>Payment terms</source>
        <translation>Condiciones de pago</translation>
    </message>
    <message>
        <source>Representative</source>
        <translation>Representante</translation>
    </message>
    <message>
        <source>You can view this account but not change it.</source>
        <translation>Puede ver esta cuenta, pero no modificarla.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Guardar</translation>
    </message>
    <message>
        <source>Save the changes (Ctrl+S)</source>
        <translation>Guardar los cambios (Ctrl+S)</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Deshacer</translation>
    </message>
    <message>
        <source>Put back the values shown before your edits</source>
        <translation>Restablecer los valores que se mostraban antes de sus cambios</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Recargar</translation>
    </message>
    <message>
        <source>Read the account again from the database; unsaved edits are discarded</source>
        <translation>Volver a leer la cuenta de la base de datos; los cambios sin guardar se descartan</translation>
    </message>
</context>
<context>
    <name>PaymentMethodDialog</name>
    <message>
        <source>Keep typing the card number.</source>
        <extracomment>the method as stored (brand, last four, expiry — never the number) the number field lost focus once: errors show even for short input what the service stored, after OK</extracomment>
        <translation>Siga escribiendo el número de tarjeta.</translation>
    </message>
    <message>
        <source>Choose the expiry month and year.</source>
        <translation>Elija el mes y el año de caducidad.</translation>
    </message>
    <message>
        <source>Keep typing the IBAN.</source>
        <translation>Siga escribiendo el IBAN.</translation>
    </message>
    <message>
        <source>{country} •••• {last4}</source>
        <translation>{country} •••• {last4}</translation>
    </message>
    <message>
        <source>Add card</source>
        <translation>Añadir tarjeta</translation>
    </message>
    <message>
        <source>Only the brand, the last four digits and the expiry date are kept; the card number is never stored.</source>
        <translation>Solo se guardan la marca, los cuatro últimos dígitos y la fecha de caducidad; el número de tarjeta nunca se almacena.</translation>
    </message>
    <message>
        <source>Card &amp;number:</source>
        <translation>&amp;Número de tarjeta:</translation>
    </message>
    <message>
        <source>1234 5678 9012 3456</source>
        <translation>1234 5678 9012 3456</translation>
    </message>
    <message>
        <source>&amp;Expires:</source>
        <translation>&amp;Caducidad:</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>Mes</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>Año</translation>
    </message>
    <message>
        <source>Name on &amp;card:</source>
        <translation>&amp;Titular de la tarjeta:</translation>
    </message>
    <message>
        <source>Billing address of the card</source>
        <translation>Dirección de facturación de la tarjeta</translation>
    </message>
    <message>
        <source>Leave these empty to use the account&apos;s billing address.</source>
        <translation>Deje estos campos vacíos para utilizar la dirección de facturación de la cuenta.</translation>
    </message>
    <message>
        <source>&amp;Street:</source>
        <translation>Ca&amp;lle:</translation>
    </message>
    <message>
        <source>&amp;Postal code:</source>
        <translation>Código &amp;postal:</translation>
    </message>
    <message>
        <source>C&amp;ity:</source>
        <translation>C&amp;iudad:</translation>
    </message>
    <message>
        <source>Co&amp;untry code:</source>
        <translation>Código de paí&amp;s:</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>ES</translation>
    </message>
    <message>
        <source>Make this card the &amp;default payment method</source>
        <translation>Usar esta tarjeta como método de pago pre&amp;determinado</translation>
    </message>
    <message>
        <source>Add bank account</source>
        <translation>Añadir cuenta bancaria</translation>
    </message>
    <message>
        <source>The account is debited by SEPA direct debit. Only the country and the last four characters of the IBAN are kept.</source>
        <translation>Los cargos se realizan en la cuenta mediante adeudo directo SEPA. Solo se guardan el país y los cuatro últimos caracteres del IBAN.</translation>
    </message>
    <message>
        <source>&amp;IBAN:</source>
        <translation>&amp;IBAN:</translation>
    </message>
    <message>
        <source>NL91 ABNA 0417 1643 00</source>
        <translation>ES91 2100 0418 4502 0005 1332</translation>
    </message>
    <message>
        <source>Account &amp;holder:</source>
        <translation>&amp;Titular de la cuenta:</translation>
    </message>
    <message>
        <source>Make this bank account the &amp;default payment method</source>
        <translation>Usar esta cuenta bancaria como método de pago pre&amp;determinado</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>&amp;Añadir</translation>
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
        <translation>Tarjeta</translation>
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
        <translation>Cuenta bancaria ({country}) •••• {last4}</translation>
    </message>
    <message>
        <source>Invoice (bank transfer)</source>
        <translation>Factura (transferencia bancaria)</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>A value that sorts the column (ints and strings only).</extracomment>
        <translation>Método de pago</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>Titular</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Caducidad</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Dirección de facturación</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Estado</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Predeterminado</translation>
    </message>
    <message>
        <source>Default, expired</source>
        <translation>Predeterminado, caducado</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Caducado</translation>
    </message>
    <message>
        <source>Autopay and Pay balance charge the default method.</source>
        <translation>El pago automático y Pagar el saldo cargan el importe en el método predeterminado.</translation>
    </message>
</context>
<context>
    <name>PaymentMethodsTab</name>
    <message numerus="yes">
        <source>Pays by invoice (net %n days)</source>
        <extracomment>a method, the default or autopay was changed: the page reloads what depends on it</extracomment>
        <translation>
            <numerusform>Paga mediante factura (a %n día)</numerusform>
            <numerusform>Paga mediante factura (a %n días)</numerusform>
        </translation>
    </message>
    <message>
        <source>Corporate accounts are invoiced on their payment terms; cards and bank accounts are used only when a payment is recorded.</source>
        <translation>A las cuentas corporativas se les factura según sus condiciones de pago; las tarjetas y cuentas bancarias solo se utilizan al registrar un pago.</translation>
    </message>
    <message>
        <source>Renewal invoices are charged at once to the default payment method.</source>
        <translation>Las facturas de renovación se cargan de inmediato al método de pago predeterminado.</translation>
    </message>
    <message>
        <source>Renewal invoices stay open until the customer pays them.</source>
        <translation>Las facturas de renovación quedan abiertas hasta que el cliente las paga.</translation>
    </message>
    <message>
        <source>No payment method on file.</source>
        <translation>No hay ningún método de pago registrado.</translation>
    </message>
    <message>
        <source>Your role can view this account but not change it.</source>
        <translation>Su rol puede ver esta cuenta, pero no modificarla.</translation>
    </message>
    <message>
        <source>An expired card cannot be the default.</source>
        <translation>Una tarjeta caducada no puede ser la predeterminada.</translation>
    </message>
    <message>
        <source>This is already the default method.</source>
        <translation>Este ya es el método predeterminado.</translation>
    </message>
    <message>
        <source>Nothing was changed: {operator} changed this account at {time}. The list now shows the current data.</source>
        <translation>No se ha modificado nada: {operator} modificó esta cuenta el {time}. La lista muestra ahora los datos actuales.</translation>
    </message>
    <message>
        <source>Nothing was changed: this account was changed elsewhere. The list now shows the current data.</source>
        <translation>No se ha modificado nada: otra persona ha modificado esta cuenta. La lista muestra ahora los datos actuales.</translation>
    </message>
    <message>
        <source>{method} was added.</source>
        <translation>Se ha añadido {method}.</translation>
    </message>
    <message>
        <source>{method} is now the default payment method.</source>
        <translation>{method} es ahora el método de pago predeterminado.</translation>
    </message>
    <message>
        <source>Remove payment method</source>
        <translation>Quitar método de pago</translation>
    </message>
    <message>
        <source>Remove {method} from this account?</source>
        <translation>¿Quitar {method} de esta cuenta?</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Quitar</translation>
    </message>
    <message>
        <source>{method} was removed.</source>
        <translation>Se ha quitado {method}.</translation>
    </message>
    <message>
        <source>Autopay is on.</source>
        <translation>El pago automático está activado.</translation>
    </message>
    <message>
        <source>Autopay is off.</source>
        <translation>El pago automático está desactivado.</translation>
    </message>
    <message>
        <source>&amp;Autopay: charge renewals to the default payment method</source>
        <translation>Pag&amp;o automático: cargar las renovaciones al método de pago predeterminado</translation>
    </message>
    <message>
        <source>Add &amp;card…</source>
        <translation>Añadir &amp;tarjeta…</translation>
    </message>
    <message>
        <source>Add &amp;bank account…</source>
        <translation>Añadir cuenta &amp;bancaria…</translation>
    </message>
    <message>
        <source>Set as &amp;default</source>
        <translation>Establecer como &amp;predeterminado</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>&amp;Quitar…</translation>
    </message>
</context>
<context>
    <name>PaymentPage</name>
    <message>
        <source>&amp;Use the payment method on file: {method}</source>
        <translation>&amp;Usar el método de pago registrado: {method}</translation>
    </message>
    <message>
        <source>Valid VAT number: reverse charge applies, no VAT is charged (0 %).</source>
        <translation>Número de IVA válido: se aplica la inversión del sujeto pasivo y no se cobra IVA (0 %).</translation>
    </message>
    <message>
        <source>Valid VAT number: VAT of {rate} is charged.</source>
        <translation>Número de IVA válido: se cobra un IVA del {rate}.</translation>
    </message>
    <message>
        <source>Payment and VAT</source>
        <translation>Pago e IVA</translation>
    </message>
    <message>
        <source>Enter your payment details and/or add your VAT number, then press Place order.</source>
        <translation>Introduzca sus datos de pago o añada su número de IVA (o ambos) y, a continuación, pulse Realizar pedido.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <translation>Método de pago</translation>
    </message>
    <message>
        <source>Enter a ne&amp;w card</source>
        <translation>Introducir una nueva &amp;tarjeta</translation>
    </message>
    <message>
        <source>Enter a bank accoun&amp;t (SEPA direct debit)</source>
        <translation>Introducir una cuenta &amp;bancaria (adeudo directo SEPA)</translation>
    </message>
    <message>
        <source>VAT number</source>
        <translation>Número de IVA</translation>
    </message>
    <message>
        <source>A valid VAT number of another EU country than the seller&apos;s means reverse charge: no VAT is added.</source>
        <translation>Un número de IVA válido de un país de la UE distinto del del vendedor implica la inversión del sujeto pasivo: no se añade IVA.</translation>
    </message>
    <message>
        <source>&amp;VAT number:</source>
        <translation>Número de &amp;IVA:</translation>
    </message>
    <message>
        <source>e.g. IT07664550212</source>
        <translation>p. ej., ESB12345674</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>&amp;Realizar pedido</translation>
    </message>
</context>
<context>
    <name>PlanPage</name>
    <message>
        <source>No change can be made now.</source>
        <extracomment>a way out into the account page (&quot;licences&quot;, &quot;invoices&quot;)</extracomment>
        <translation>Ahora mismo no se puede hacer ningún cambio.</translation>
    </message>
    <message>
        <source>Correct the choice to see the order.</source>
        <translation>Corrija la selección para ver el pedido.</translation>
    </message>
    <message>
        <source>Choose another plan, number of licences, billing frequency or add-on to see what the change costs.</source>
        <translation>Elija otro plan, número de licencias, frecuencia de facturación o complemento para ver lo que cuesta el cambio.</translation>
    </message>
    <message>
        <source>The change takes effect today.</source>
        <translation>El cambio entra en vigor hoy.</translation>
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
        <translation>Licencias:</translation>
    </message>
    <message>
        <source>Billing frequency:</source>
        <translation>Frecuencia de facturación:</translation>
    </message>
    <message>
        <source>New billing period:</source>
        <translation>Nuevo período de facturación:</translation>
    </message>
    <message>
        <source>Charge for the period:</source>
        <translation>Importe del período:</translation>
    </message>
    <message>
        <source>Credit for unused days:</source>
        <translation>Abono por los días no utilizados:</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (inversión del sujeto pasivo)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>Total due now:</source>
        <translation>Total a pagar ahora:</translation>
    </message>
    <message>
        <source>To account credit:</source>
        <translation>Al saldo a favor:</translation>
    </message>
    <message>
        <source>The review page shows the exact invoice.</source>
        <translation>La página de revisión muestra la factura exacta.</translation>
    </message>
    <message numerus="yes">
        <source>Your cart holds %n product(s).</source>
        <translation>
            <numerusform>Su carrito contiene %n producto.</numerusform>
            <numerusform>Su carrito contiene %n productos.</numerusform>
        </translation>
    </message>
    <message>
        <source>Your cart is empty.</source>
        <translation>Su carrito está vacío.</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Pagar</translation>
    </message>
    <message>
        <source>&amp;Add to cart</source>
        <translation>Añadir al ca&amp;rrito</translation>
    </message>
    <message>
        <source>Product or licensing change for account {account}</source>
        <translation>Cambio de productos o licencias de la cuenta {account}</translation>
    </message>
    <message>
        <source>Select your plan</source>
        <translation>Seleccione su plan</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Choose the plan tier, the number of licences and the billing frequency to subscribe.</source>
        <translation>La prueba gratuita de {product} ha finalizado. Elija el nivel del plan, el número de licencias y la frecuencia de facturación para suscribirse.</translation>
    </message>
    <message>
        <source>Choose the plan tier, the number of licences and the billing frequency of {product}.</source>
        <translation>Elija el nivel del plan, el número de licencias y la frecuencia de facturación de {product}.</translation>
    </message>
    <message>
        <source>Change the plan of {product}: a higher tier, more or fewer licences, another billing frequency or add-ons. Changes take effect today.</source>
        <translation>Cambie el plan de {product}: un nivel superior, más o menos licencias, otra frecuencia de facturación o complementos. Los cambios entran en vigor hoy.</translation>
    </message>
    <message>
        <source>Re&amp;quested by:</source>
        <translation>Solici&amp;tado por:</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt; — billing contact</source>
        <translation>{name} &lt;{email}&gt; — contacto de facturación</translation>
    </message>
    <message>
        <source>{name} &lt;{email}&gt;</source>
        <translation>{name} &lt;{email}&gt;</translation>
    </message>
    <message>
        <source>The contact who asked for the change, recorded with the order</source>
        <translation>El contacto que ha pedido el cambio; queda registrado con el pedido</translation>
    </message>
    <message>
        <source>You act with back-office powers: a lower plan tier can be chosen, and the order is recorded as a back-office change.</source>
        <translation>Actúa con permisos de back-office: se puede elegir un nivel de plan inferior y el pedido se registra como un cambio de back-office.</translation>
    </message>
    <message>
        <source>&amp;Email the billing admin</source>
        <translation>&amp;Enviar correo al administrador de facturación</translation>
    </message>
    <message>
        <source>&amp;Pay balance</source>
        <translation>Pagar el &amp;saldo</translation>
    </message>
    <message>
        <source>Plan &amp;tier</source>
        <translation>&amp;Nivel del plan</translation>
    </message>
    <message>
        <source>&amp;Licences:</source>
        <translation>&amp;Licencias:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) assigned to users</source>
        <translation>
            <numerusform>%n licencia asignada a usuarios</numerusform>
            <numerusform>%n licencias asignadas a usuarios</numerusform>
        </translation>
    </message>
    <message>
        <source>Ma&amp;nage licences</source>
        <translation>&amp;Gestionar licencias</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frecuencia de facturación</translation>
    </message>
    <message>
        <source>Mont&amp;hly</source>
        <translation>&amp;Mensual</translation>
    </message>
    <message>
        <source>Ann&amp;ual</source>
        <translation>An&amp;ual</translation>
    </message>
    <message>
        <source>A&amp;dd-ons</source>
        <translation>&amp;Complementos</translation>
    </message>
    <message>
        <source>Order summary</source>
        <translation>Resumen del pedido</translation>
    </message>
    <message>
        <source>Cart</source>
        <translation>Carrito</translation>
    </message>
    <message>
        <source>&amp;View cart</source>
        <translation>&amp;Ver carrito</translation>
    </message>
    <message>
        <source>{plan} — {price} (current plan)</source>
        <translation>{plan} — {price} (plan actual)</translation>
    </message>
    <message>
        <source>{plan} — {price}</source>
        <translation>{plan} — {price}</translation>
    </message>
    <message>
        <source>{addon} — {price} (included)</source>
        <translation>{addon} — {price} (incluido)</translation>
    </message>
    <message>
        <source>{addon} — {price}</source>
        <translation>{addon} — {price}</translation>
    </message>
    <message>
        <source>not sold in {currency}</source>
        <translation>no se vende en {currency}</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Enter a database file or a server URL.</source>
        <extracomment>The languages the application ships (SPEC §7), in menu order. Each language by its own name (never translated: a reader looks for their own). The themes offered (see :mod:`billing_desktop.ui.theme`). URL schemes of the database servers the application can use. what to store and pass on: the absolute file path, or the URL as typed for showing: the path, or the URL with its password hidden</extracomment>
        <translation>Introduzca un archivo de base de datos o la URL de un servidor.</translation>
    </message>
    <message>
        <source>Enter the full path of the database file, not {path}.</source>
        <translation>Introduzca la ruta completa del archivo de base de datos, no {path}.</translation>
    </message>
    <message>
        <source>{path} is a folder, not a database file.</source>
        <translation>{path} es una carpeta, no un archivo de base de datos.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>La carpeta {folder} no existe.</translation>
    </message>
    <message>
        <source>This is not a database URL. Write it as postgresql://user:password@server:5432/database.</source>
        <translation>Esto no es una URL de base de datos. Escríbala así: postgresql://usuario:contraseña@servidor:5432/base_de_datos.</translation>
    </message>
    <message>
        <source>An SQLite database must be a file.</source>
        <translation>Una base de datos SQLite debe ser un archivo.</translation>
    </message>
    <message>
        <source>{scheme} databases are not supported. Use an SQLite file or a PostgreSQL server (postgresql://…).</source>
        <translation>No se admiten bases de datos {scheme}. Utilice un archivo SQLite o un servidor PostgreSQL (postgresql://…).</translation>
    </message>
    <message>
        <source>The URL needs a server name after //.</source>
        <translation>La URL necesita un nombre de servidor después de //.</translation>
    </message>
    <message>
        <source>The URL needs a database name after the server (/database).</source>
        <translation>La URL necesita un nombre de base de datos después del servidor (/base_de_datos).</translation>
    </message>
</context>
<context>
    <name>PresentationController</name>
    <message>
        <source>&amp;Presentation</source>
        <extracomment>The scales offered, in per cent. dynamic properties holding a widget&apos;s unscaled sizes while the mode is on QFont::SizeResolved (PySide does not expose QFont::ResolveProperties) Class fonts a platform theme may set (QApplication&apos;s initializeWidgetFontHash). Qt&apos;s own helper buttons, sized by their owner: never rescaled MainWindow&apos;s navigation: item height = line height + this, width ≥ this minimum (the formula of ``MainWindow.__init__`` / ``_fit_navigation``) How often the customer view re-reads its account while shown (a moved clock). the caption shown now (&quot;&quot; when none) where the mouse was last pressed (window coordinates) keys that do something rather than type: named even in a text field typed text kept in a caption</extracomment>
        <translation>&amp;Presentación</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>Modo de &amp;presentación</translation>
    </message>
    <message>
        <source>Enlarge the whole window for a projector or a screen share</source>
        <translation>Ampliar toda la ventana para un proyector o para compartir pantalla</translation>
    </message>
    <message>
        <source>&amp;Scale</source>
        <translation>&amp;Escala</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent} %</translation>
    </message>
    <message>
        <source>Show &amp;Clicks and Keys</source>
        <translation>Mostrar &amp;clics y teclas</translation>
    </message>
    <message>
        <source>Show where the mouse is clicked and which keys are pressed</source>
        <translation>Mostrar dónde se hace clic con el ratón y qué teclas se pulsan</translation>
    </message>
    <message>
        <source>C&amp;ustomer View</source>
        <translation>&amp;Vista del cliente</translation>
    </message>
    <message>
        <source>Show the open account&apos;s Billing Center as its billing contact sees it</source>
        <translation>Mostrar el Centro de facturación de la cuenta abierta tal como lo ve su contacto de facturación</translation>
    </message>
    <message>
        <source>Customer View</source>
        <translation>Vista del cliente</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>Running renewals</source>
        <extracomment>app_settings key: the last date whose events are all processed (ISO date) the &quot;trial ending&quot; email goes out this many days before ``trial_end`` at most this many events per transaction … … or this many on the per-event path (a few milliseconds each) … … and a transaction stops taking new events after this many seconds run chunks on the bulk path on SQLite (see &quot;Transactions&quot; above); False: per event the progress stage shown while the engine runs</extracomment>
        <translation>Procesando renovaciones</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Account ID {text}</source>
        <extracomment>Typing pause before the search runs, in milliseconds. What a hit matched on, as a sentence with the matched text.</extracomment>
        <translation>ID de cuenta {text}</translation>
    </message>
    <message>
        <source>Company name {text}</source>
        <translation>Nombre de empresa {text}</translation>
    </message>
    <message>
        <source>Contact {text}</source>
        <translation>Contacto {text}</translation>
    </message>
    <message>
        <source>Contact email {text}</source>
        <translation>Correo del contacto {text}</translation>
    </message>
    <message>
        <source>Invoice {text}</source>
        <translation>Factura {text}</translation>
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
        <translation>Escriba un ID de cuenta, el nombre de una empresa, el nombre o el correo electrónico de un contacto, o un número de factura.</translation>
    </message>
    <message>
        <source>No account matches “{text}”.</source>
        <translation>Ninguna cuenta coincide con «{text}».</translation>
    </message>
    <message numerus="yes">
        <source>The first %n accounts found. Type more to narrow the search.</source>
        <translation>
            <numerusform>La primera cuenta encontrada. Escriba más para acotar la búsqueda.</numerusform>
            <numerusform>Las primeras %n cuentas encontradas. Escriba más para acotar la búsqueda.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n account(s) found. Enter opens the selected one.</source>
        <translation>
            <numerusform>%n cuenta encontrada. Intro abre la seleccionada.</numerusform>
            <numerusform>%n cuentas encontradas. Intro abre la seleccionada.</numerusform>
        </translation>
    </message>
    <message>
        <source>Find Account</source>
        <translation>Buscar cuenta</translation>
    </message>
    <message>
        <source>Account ID, company, contact name or email, invoice number</source>
        <translation>ID de cuenta, empresa, nombre o correo de un contacto, número de factura</translation>
    </message>
    <message>
        <source>Find account</source>
        <translation>Buscar cuenta</translation>
    </message>
    <message>
        <source>Accounts found</source>
        <translation>Cuentas encontradas</translation>
    </message>
</context>
<context>
    <name>ReactivateDialog</name>
    <message>
        <source>This subscription can no longer be found.</source>
        <extracomment>the reactivation succeeded; the caller reloads its data part of the wizard contract; this dialog offers no way out into the page</extracomment>
        <translation>Ya no se encuentra esta suscripción.</translation>
    </message>
    <message>
        <source>{product} has been reactivated: the trial continues until {date}. A confirmation email was sent.</source>
        <translation>Se ha reactivado {product}: la prueba continúa hasta el {date}. Se ha enviado un correo de confirmación.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. The next billing date is {date}. A confirmation email was sent.</source>
        <translation>Se ha reactivado {product}. La próxima fecha de facturación es el {date}. Se ha enviado un correo de confirmación.</translation>
    </message>
    <message>
        <source>{product} has been reactivated. A confirmation email was sent.</source>
        <translation>Se ha reactivado {product}. Se ha enviado un correo de confirmación.</translation>
    </message>
    <message>
        <source>Reactivate subscription</source>
        <translation>Reactivar suscripción</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Reactivar</translation>
    </message>
    <message>
        <source>&amp;Keep cancellation</source>
        <translation>&amp;Mantener cancelación</translation>
    </message>
    <message>
        <source>Reactivate {product}?</source>
        <translation>¿Reactivar {product}?</translation>
    </message>
    <message>
        <source>The trial continues until {date}; it is not cancelled any more.</source>
        <translation>La prueba continúa hasta el {date}; ya no está cancelada.</translation>
    </message>
    <message>
        <source>{product} renews automatically again. The next billing date is {date}.</source>
        <translation>{product} vuelve a renovarse automáticamente. La próxima fecha de facturación es el {date}.</translation>
    </message>
    <message>
        <source>{product} renews automatically again.</source>
        <translation>{product} vuelve a renovarse automáticamente.</translation>
    </message>
    <message>
        <source>Without reactivation it expires on {date}.</source>
        <translation>Si no se reactiva, caduca el {date}.</translation>
    </message>
</context>
<context>
    <name>RenewalsModel</name>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Renews on</source>
        <translation>Se renueva el</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importe</translation>
    </message>
</context>
<context>
    <name>RequesterPage</name>
    <message>
        <source>Email:</source>
        <translation>Correo electrónico:</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>Roles:</translation>
    </message>
    <message>
        <source>Billing contact:</source>
        <translation>Contacto de facturación:</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Sí</translation>
    </message>
    <message>
        <source>Authorised to cancel:</source>
        <translation>Autorizado para cancelar:</translation>
    </message>
    <message>
        <source>Yes, for products bought through a representative</source>
        <translation>Sí, para productos comprados a través de un representante</translation>
    </message>
    <message>
        <source>{product}: {rule}</source>
        <translation>{product}: {rule}</translation>
    </message>
    <message>
        <source>Nothing is selected yet.</source>
        <translation>Todavía no hay nada seleccionado.</translation>
    </message>
    <message>
        <source>Choose the contact who is asking to see whether they may.</source>
        <translation>Elija el contacto que lo solicita para comprobar si está autorizado.</translation>
    </message>
    <message>
        <source>{contact} may not ask to cancel {product}. {rule}</source>
        <translation>{contact} no puede solicitar la cancelación de {product}. {rule}</translation>
    </message>
    <message>
        <source>Requester</source>
        <translation>Solicitante</translation>
    </message>
    <message>
        <source>Step 2 of 6: which contact asks for the cancellation, and may they?</source>
        <translation>Paso 2 de 6: ¿qué contacto solicita la cancelación y está autorizado?</translation>
    </message>
    <message>
        <source>Only some roles may ask support to cancel a product. Choose the contact who is calling; the rule of each product to cancel is checked.</source>
        <translation>Solo algunos roles pueden pedir al soporte que cancele un producto. Elija el contacto que llama; se comprueba la regla de cada producto que se va a cancelar.</translation>
    </message>
    <message>
        <source>C&amp;ontact asking:</source>
        <translation>C&amp;ontacto que lo solicita:</translation>
    </message>
    <message>
        <source>Who may ask</source>
        <translation>Quién puede solicitarlo</translation>
    </message>
    <message>
        <source>Choose a contact…</source>
        <translation>Elija un contacto…</translation>
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
            <numerusform>%n elemento cancelado. La renovación automática está desactivada.</numerusform>
            <numerusform>%n elementos cancelados. La renovación automática está desactivada.</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}:</source>
        <translation>{name}:</translation>
    </message>
    <message>
        <source>active until {date}, still billed {amount}</source>
        <translation>activo hasta el {date}; todavía se factura: {amount}</translation>
    </message>
    <message>
        <source>{number}: {amount}, paid with the method on file</source>
        <translation>{number}: {amount}, pagado con el método registrado</translation>
    </message>
    <message>
        <source>{number}: {amount}, open (to be paid)</source>
        <translation>{number}: {amount}, abierta (pendiente de pago)</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Factura por rescisión anticipada:</translation>
    </message>
    <message>
        <source>Billed now:</source>
        <translation>Facturado ahora:</translation>
    </message>
    <message>
        <source>Nothing: the current period was already invoiced.</source>
        <translation>Nada: el período actual ya se había facturado.</translation>
    </message>
    <message>
        <source>Email:</source>
        <translation>Correo electrónico:</translation>
    </message>
    <message numerus="yes">
        <source>%n confirmation email(s) sent to {email}</source>
        <translation>
            <numerusform>%n correo de confirmación enviado a {email}</numerusform>
            <numerusform>%n correos de confirmación enviados a {email}</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Cancelación realizada</translation>
    </message>
    <message>
        <source>The cancellation is recorded and the customer was emailed.</source>
        <translation>La cancelación se ha registrado y se ha enviado un correo electrónico al cliente.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Cerrar</translation>
    </message>
    <message>
        <source>Order:</source>
        <extracomment>Assign licences now → &quot;licences&quot;</extracomment>
        <translation>Pedido:</translation>
    </message>
    <message>
        <source>Invoice:</source>
        <translation>Factura:</translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s) (was {old})</source>
        <translation>
            <numerusform>%n licencia (antes {old})</numerusform>
            <numerusform>%n licencias (antes {old})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n licence(s)</source>
        <translation>
            <numerusform>%n licencia</numerusform>
            <numerusform>%n licencias</numerusform>
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
        <translation>Próxima fecha de facturación:</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>Total:</translation>
    </message>
    <message>
        <source>Charged now:</source>
        <translation>Cargado ahora:</translation>
    </message>
    <message>
        <source>{amount} to {method}</source>
        <translation>{amount} en {method}</translation>
    </message>
    <message>
        <source>Payable by {date}:</source>
        <translation>A pagar hasta el {date}:</translation>
    </message>
    <message>
        <source>Added to account credit:</source>
        <translation>Añadido al saldo a favor:</translation>
    </message>
    <message>
        <source>A confirmation email with the details of your purchase was sent to {email}.</source>
        <translation>Se ha enviado a {email} un correo de confirmación con los detalles de su compra.</translation>
    </message>
    <message>
        <source>Your subscription was updated. The billing period starts today and the billing date now matches the day of the change.</source>
        <translation>Su suscripción se ha actualizado. El período de facturación empieza hoy y la fecha de facturación coincide ahora con el día del cambio.</translation>
    </message>
    <message>
        <source>Order placed</source>
        <translation>Pedido realizado</translation>
    </message>
    <message>
        <source>The changes are effective immediately.</source>
        <translation>Los cambios entran en vigor de inmediato.</translation>
    </message>
    <message>
        <source>You added licences: do not forget to assign them to your users so they can sign in.</source>
        <translation>Ha añadido licencias: no olvide asignarlas a sus usuarios para que puedan iniciar sesión.</translation>
    </message>
    <message>
        <source>&amp;Assign licences now</source>
        <translation>Asignar &amp;licencias ahora</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <source>Payment method: {method}</source>
        <translation>Método de pago: {method}</translation>
    </message>
    <message>
        <source>Next, confirm the payment details and/or the VAT number.</source>
        <translation>A continuación, confirme los datos de pago o el número de IVA (o ambos).</translation>
    </message>
    <message>
        <source>Complete transaction</source>
        <translation>Completar la transacción</translation>
    </message>
    <message>
        <source>Review the billing period (starting today), the licences, the plan price and the total due. Press Edit order to make further changes.</source>
        <translation>Revise el período de facturación (que empieza hoy), las licencias, el precio del plan y el total adeudado. Pulse Editar pedido para hacer más cambios.</translation>
    </message>
    <message>
        <source>Your order:</source>
        <translation>Su pedido:</translation>
    </message>
    <message>
        <source>&amp;Edit order</source>
        <translation>&amp;Editar pedido</translation>
    </message>
    <message>
        <source>&amp;Checkout</source>
        <translation>&amp;Pagar</translation>
    </message>
    <message>
        <source>Place &amp;order</source>
        <translation>&amp;Realizar pedido</translation>
    </message>
</context>
<context>
    <name>SandboxMenu</name>
    <message>
        <source>New Demo Database</source>
        <extracomment>open (or re-open) the database file at this path in the GUI session the open demo database&apos;s content was replaced (reset, snapshot restored) reset and snapshots copy the demo database&apos;s file: not for a demo on a server the actions in the File menu, in order</extracomment>
        <translation>Nueva base de datos de demostración</translation>
    </message>
    <message>
        <source>Billing Desktop databases (*.sqlite3)</source>
        <translation>Bases de datos de Billing Desktop (*.sqlite3)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Todos los archivos (*)</translation>
    </message>
    <message>
        <source>“{file}” already exists. Replace it with a new demo database?</source>
        <translation>«{file}» ya existe. ¿Desea reemplazarlo por una nueva base de datos de demostración?</translation>
    </message>
    <message>
        <source>If it is a demo database, everything done in it is replaced by the curated demo accounts. Any other file is left untouched.</source>
        <translation>Si es una base de datos de demostración, todo lo que se haya hecho en ella se sustituye por las cuentas de demostración predefinidas. Cualquier otro archivo no se modifica.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Reemplazar</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>Creando la base de datos de demostración…</translation>
    </message>
    <message>
        <source>Everything done in it is lost: orders, cancellations, licence and payment changes, emails and operators added.</source>
        <translation>Se pierde todo lo que se haya hecho en ella: pedidos, cancelaciones, cambios de licencias y de pagos, correos y operadores añadidos.</translation>
    </message>
    <message>
        <source>The simulated date goes back from {today} to {start}.</source>
        <translation>La fecha simulada vuelve del {today} al {start}.</translation>
    </message>
    <message>
        <source>The simulated date stays at {start}.</source>
        <translation>La fecha simulada se mantiene en el {start}.</translation>
    </message>
    <message>
        <source>Snapshots are kept.</source>
        <translation>Las instantáneas se conservan.</translation>
    </message>
    <message>
        <source>Reset Demo Database</source>
        <translation>Restablecer base de datos de demostración</translation>
    </message>
    <message>
        <source>Reset the demo database “{database}” to the curated demo accounts?</source>
        <translation>¿Restablecer la base de datos de demostración «{database}» con las cuentas de demostración predefinidas?</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>&amp;Restablecer</translation>
    </message>
    <message>
        <source>Resetting the demo database…</source>
        <translation>Restableciendo la base de datos de demostración…</translation>
    </message>
    <message>
        <source>&amp;New Demo Database…</source>
        <translation>&amp;Nueva base de datos de demostración…</translation>
    </message>
    <message>
        <source>Create a fresh demo database with the curated sample accounts and open it</source>
        <translation>Crear una base de datos de demostración nueva con las cuentas de ejemplo predefinidas y abrirla</translation>
    </message>
    <message>
        <source>&amp;Reset Demo Database…</source>
        <translation>&amp;Restablecer base de datos de demostración…</translation>
    </message>
    <message>
        <source>Reset…</source>
        <translation>Restablecer…</translation>
    </message>
    <message>
        <source>Return the demo database to the curated accounts of its first day</source>
        <translation>Devolver la base de datos de demostración a las cuentas predefinidas de su primer día</translation>
    </message>
    <message>
        <source>Sna&amp;pshots…</source>
        <translation>&amp;Instantáneas…</translation>
    </message>
    <message>
        <source>Snapshots…</source>
        <translation>Instantáneas…</translation>
    </message>
    <message>
        <source>Save the demo database&apos;s state under a name and return to it later</source>
        <translation>Guardar el estado de la base de datos de demostración con un nombre y volver a él más tarde</translation>
    </message>
</context>
<context>
    <name>SelectionPage</name>
    <message numerus="yes">
        <source>{product} {plan}, %n licence(s)</source>
        <translation>
            <numerusform>{product} {plan}, %n licencia</numerusform>
            <numerusform>{product} {plan}, %n licencias</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled only through support.</source>
        <translation>Solo se cancela a través del soporte.</translation>
    </message>
    <message>
        <source>The billing contact could also cancel it online.</source>
        <translation>El contacto de facturación también podría cancelarlo en línea.</translation>
    </message>
    <message>
        <source>Add-on: {addon}</source>
        <translation>Complemento: {addon}</translation>
    </message>
    <message>
        <source>Ends with the product.</source>
        <translation>Finaliza con el producto.</translation>
    </message>
    <message>
        <source>With this selection these conditions are not met yet: {conditions}. Go Back to resolve them, or change the selection.</source>
        <translation>Con esta selección todavía no se cumplen estas condiciones: {conditions}. Vuelva Atrás para resolverlas o cambie la selección.</translation>
    </message>
    <message>
        <source>What to cancel</source>
        <translation>Qué cancelar</translation>
    </message>
    <message>
        <source>Step 4 of 6: the products and add-ons the caller wants to cancel.</source>
        <translation>Paso 4 de 6: los productos y complementos que la persona que llama quiere cancelar.</translation>
    </message>
    <message>
        <source>Tick each product or add-on to cancel. A product&apos;s add-ons end with it; an add-on can also be cancelled on its own.</source>
        <translation>Marque cada producto o complemento que se va a cancelar. Los complementos de un producto finalizan con él; un complemento también se puede cancelar por separado.</translation>
    </message>
</context>
<context>
    <name>ServiceError</name>
    <message>
        <source>Enter the company name.</source>
        <extracomment>Languages customer documents are written in (SPEC §7), in menu order. The fields the Overview tab edits, in form order. Fields that may not be left empty. Column sizes (``store.models.Account``). among super_admin, billing_admin, product_admin, user an open invoice is past its due date the currency can no longer change: invoices (or credit) exist in it the optimistic-locking version: pass it back to :func:`update_account` the operator may edit the account (SPEC §6); the fields are read-only otherwise</extracomment>
        <translation>Introduzca el nombre de la empresa.</translation>
    </message>
    <message>
        <source>Choose the account type.</source>
        <translation>Elija el tipo de cuenta.</translation>
    </message>
    <message>
        <source>Enter the street address.</source>
        <translation>Introduzca la dirección.</translation>
    </message>
    <message>
        <source>Enter the postal code.</source>
        <translation>Introduzca el código postal.</translation>
    </message>
    <message>
        <source>Enter the city.</source>
        <translation>Introduzca la ciudad.</translation>
    </message>
    <message>
        <source>Choose the country.</source>
        <translation>Elija el país.</translation>
    </message>
    <message>
        <source>Choose the language.</source>
        <translation>Elija el idioma.</translation>
    </message>
    <message>
        <source>Choose the currency.</source>
        <translation>Elija la moneda.</translation>
    </message>
    <message>
        <source>This field is longer than {max} characters.</source>
        <translation>Este campo supera los {max} caracteres.</translation>
    </message>
    <message>
        <source>{value} is not an account type.</source>
        <translation>{value} no es un tipo de cuenta.</translation>
    </message>
    <message>
        <source>Documents cannot be written in {language}.</source>
        <translation>No se pueden redactar documentos en {language}.</translation>
    </message>
    <message>
        <source>The currency of account {account} cannot change: it already has invoices or credit in {currency}.</source>
        <translation>No se puede cambiar la moneda de la cuenta {account}: ya tiene facturas o saldo a favor en {currency}.</translation>
    </message>
    <message>
        <source>The catalog has no prices in {currency}.</source>
        <translation>El catálogo no tiene precios en {currency}.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice: turn autopay off for account {account} (Payment methods) before making it a corporate account.</source>
        <translation>Las cuentas corporativas pagan mediante factura: desactive el pago automático de la cuenta {account} (Métodos de pago) antes de convertirla en cuenta corporativa.</translation>
    </message>
    <message>
        <source>The account</source>
        <translation>La cuenta</translation>
    </message>
    <message>
        <source>Account</source>
        <extracomment>Entries per page unless the caller asks for another size. The most one call returns, whatever ``limit`` says. the field did not exist before (a creation) / does not exist after (a removal) the product of the subscription the entry is about, if any the account&apos;s currency, for fields holding minor units (``…_minor``) fields whose value changed, in the order they were recorded
----------
``session.info`` key: the id of the account the use case loaded first ``session.info`` key: rows whose version must move on with the transaction&apos;s writes :func:`last_change` key for the operators&apos; own changes (audited without an account)
----------
Subscription statuses that are &quot;bought&quot; and can be changed through checkout. ids of the stored items making up this line (to remove the line) pass back as ``expected_cart_version``; ``None`` while the account has no cart the stored row this change is (None: not stored yet) set: the add-on was cancelled and ends on this date (see cancellation) licences assigned to contacts in the order of ``Subscription.addons`` (by add-on) by id, as ``Account.contacts`` and ``Account.payment_methods`` by position (ORM attributes: a session executing it flushes pending changes first) every subscription of the account with its product, plan, assigned licences and add-ons (one row per add-on)</extracomment>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Only support staff can do this.</source>
        <extracomment>reset a demo database, save, restore and delete its snapshots (services.sandbox) Read-only actions every active role may perform. Actions that change one account; the account rules of SPEC §6 apply. Support-only powers behind the self-service flows (SPEC §3): not for representatives, who work on their own portfolio through the normal flows.</extracomment>
        <translation>Solo el personal de soporte puede hacer esto.</translation>
    </message>
    <message>
        <source>Your role ({role}) does not allow this action.</source>
        <translation>Su rol ({role}) no permite esta acción.</translation>
    </message>
    <message>
        <source>The clock can be moved only in a demo database.</source>
        <translation>El reloj solo se puede adelantar en una base de datos de demostración.</translation>
    </message>
    <message>
        <source>Only a demo database can be reset or returned to a snapshot; this database was left unchanged.</source>
        <translation>Solo una base de datos de demostración se puede restablecer o devolver a una instantánea; esta base de datos no se ha modificado.</translation>
    </message>
    <message>
        <source>Subscription</source>
        <extracomment>for an order: the order already placed with its key (account id, stored result), and the last order number of the range</extracomment>
        <translation>Suscripción</translation>
    </message>
    <message>
        <source>Account {account} has no billing contact.</source>
        <translation>La cuenta {account} no tiene contacto de facturación.</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Contacto</translation>
    </message>
    <message>
        <source>The subscription</source>
        <extracomment>The reportable reason codes (SPEC §3: &quot;a short list plus free text&quot;). Longest free-text reason stored. How long a successful caller verification may be used for an assisted cancellation. After this many failed verifications in a row the failures are audited as such. Audit actions written here. set when the item is an add-on of the subscription, not the subscription &quot;GoToAssist Remote Support v4 Premium&quot; or the add-on&apos;s name ``online`` (the customer may cancel) or ``support`` (assisted only) last day to cancel a fixed term without it renewing (term end − 30 days) the plan stays active until this date (exclusive: the first day without service) the fixed term renews once more because the 30-day notice window has passed when the plan expires (``cancellation_effective``) the subscription&apos;s new version (for the next optimistic-locking check) pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified failed attempts in a row by this operator on this account, this one included (0 when verified) the action that resolves a failed item: verify_caller, choose_requester, record_payment, unassign_licences, export_account the early-termination invoice (net, VAT, credit, due) or ``None`` the early-termination invoice was collected at once (autopay) a billing admin authorised to cancel products bought through a representative set when the add-on is already cancelled: the first day without it ``online`` (the customer may cancel it) or ``support`` (assisted only) why it cannot be cancelled (``None`` when it can) the rule of who may ask for its cancellation (article 002: &quot;Connect needs a super admin&quot;, …), worded as the refusal a contact without the role gets the operator may run the assisted flow on this account (support staff) why not (``None`` when allowed) the account&apos;s version (``expected_version`` of :func:`assisted_cancel`)</extracomment>
        <translation>La suscripción</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled online. Please contact support to cancel.</source>
        <extracomment>contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``) &quot;To move to a lower plan, contact Customer Care&quot; when the product has a lower tier that cannot be chosen online and the contact may otherwise edit the plan whom the view is shown as (the billing contact unless another was asked for) every contact of the account, the billing contact first the message above the cards when this contact cannot make changes at all (representative, billing admin, overdue invoice, expired account); ``None`` otherwise the live products (cancelled ones are under ``discover``), in catalog order what the open invoices still ask for (the Billing Center&apos;s *Pay balance*) The role of the rules context: one that no operator-role limit refuses, so the Subscriptions tab&apos;s card function reports only what the account&apos;s state decides.</extracomment>
        <translation>{product} no se puede cancelar en línea. Póngase en contacto con el soporte para cancelarlo.</translation>
    </message>
    <message>
        <source>{product} has no pending cancellation to reverse.</source>
        <translation>{product} no tiene ninguna cancelación pendiente que revertir.</translation>
    </message>
    <message>
        <source>{product} expired on {effective_end} and can no longer be reactivated. Subscribe again instead.</source>
        <translation>{product} caducó el {effective_end} y ya no se puede reactivar. En su lugar, vuelva a suscribirse.</translation>
    </message>
    <message>
        <source>The remaining months of {product} were billed on early-termination invoice {invoice}; it can be reactivated only after support voids that invoice.</source>
        <translation>Los meses restantes de {product} se facturaron en la factura por rescisión anticipada {invoice}; solo se puede reactivar después de que el soporte anule esa factura.</translation>
    </message>
    <message>
        <source>The cancellation cannot go ahead until these conditions are met: {conditions}.</source>
        <translation>No se puede seguir con la cancelación hasta que se cumplan estas condiciones: {conditions}.</translation>
    </message>
    <message>
        <source>{product} is already cancelled; it ends on {effective_end}.</source>
        <translation>{product} ya está cancelado; finaliza el {effective_end}.</translation>
    </message>
    <message>
        <source>{product} cannot be cancelled: it is no longer active.</source>
        <translation>{product} no se puede cancelar: ya no está activo.</translation>
    </message>
    <message>
        <source>Choose a reason for the cancellation.</source>
        <translation>Elija un motivo para la cancelación.</translation>
    </message>
    <message>
        <source>{reason} is not one of the cancellation reasons.</source>
        <translation>{reason} no es uno de los motivos de cancelación.</translation>
    </message>
    <message>
        <source>Describe the reason for the cancellation.</source>
        <translation>Describa el motivo de la cancelación.</translation>
    </message>
    <message>
        <source>The reason may be at most {maximum} characters long.</source>
        <translation>El motivo puede tener como máximo {maximum} caracteres.</translation>
    </message>
    <message>
        <source>{product} has no current billing period.</source>
        <translation>{product} no tiene un período de facturación en curso.</translation>
    </message>
    <message>
        <source>The agreement was not cancelled at least 30 days before its end ({term_end}), so it renews for another term: it stays active, and is billed, until {effective_end}.</source>
        <translation>El contrato no se canceló con al menos 30 días de antelación a su fin ({term_end}), así que se renueva por otro período: sigue activo, y se factura, hasta el {effective_end}.</translation>
    </message>
    <message>
        <source>Add-on</source>
        <translation>Complemento</translation>
    </message>
    <message>
        <source>Choose at least one product or add-on to cancel.</source>
        <translation>Elija al menos un producto o complemento para cancelar.</translation>
    </message>
    <message>
        <source>{addon} has already been cancelled.</source>
        <translation>{addon} ya se ha cancelado.</translation>
    </message>
    <message>
        <source>{addon} cannot be cancelled on its own during a trial.</source>
        <translation>{addon} no se puede cancelar por separado durante una prueba.</translation>
    </message>
    <message>
        <source>The caller&apos;s details did not match ({items}); verify the caller again.</source>
        <translation>Los datos de la persona que llama no coinciden ({items}); vuelva a verificar su identidad.</translation>
    </message>
    <message>
        <source>The caller has not been verified yet.</source>
        <translation>Todavía no se ha verificado la identidad de la persona que llama.</translation>
    </message>
    <message>
        <source>The verification is not valid for this account or has expired; verify the caller again.</source>
        <translation>La verificación no es válida para esta cuenta o ha caducado; vuelva a verificar la identidad de la persona que llama.</translation>
    </message>
    <message>
        <source>The caller was verified at {at}.</source>
        <translation>Identidad de la persona que llama verificada ({at}).</translation>
    </message>
    <message>
        <source>Choose the contact who asks for the cancellation.</source>
        <translation>Elija el contacto que solicita la cancelación.</translation>
    </message>
    <message>
        <source>{contact} may request this cancellation.</source>
        <translation>{contact} puede solicitar esta cancelación.</translation>
    </message>
    <message>
        <source>The account has an outstanding balance of {amount}; it must be paid before cancelling.</source>
        <translation>La cuenta tiene un saldo pendiente de {amount}; debe pagarse antes de cancelar.</translation>
    </message>
    <message>
        <source>Nothing is outstanding on the account.</source>
        <translation>La cuenta no tiene nada pendiente.</translation>
    </message>
    <message>
        <source>Review the contract type, end date and cancellation terms of each product with the caller.</source>
        <translation>Revise con la persona que llama el tipo de contrato, la fecha de fin y las condiciones de cancelación de cada producto.</translation>
    </message>
    <message>
        <source>{count} licences are still assigned to users ({products}); unassign them first.</source>
        <translation>Todavía hay {count} licencias asignadas a usuarios ({products}); primero desasígnelas.</translation>
    </message>
    <message>
        <source>No licences are assigned to users.</source>
        <translation>No hay licencias asignadas a usuarios.</translation>
    </message>
    <message>
        <source>The caller confirmed the data is backed up.</source>
        <translation>La persona que llama ha confirmado que hay copia de seguridad de los datos.</translation>
    </message>
    <message>
        <source>Confirm that the customer&apos;s data has been backed up; offer an export of the account&apos;s data.</source>
        <translation>Confirme que se ha hecho una copia de seguridad de los datos del cliente; ofrezca una exportación de los datos de la cuenta.</translation>
    </message>
    <message>
        <source>Account ID</source>
        <translation>ID de cuenta</translation>
    </message>
    <message>
        <source>Billing admin email</source>
        <translation>Correo del administrador de facturación</translation>
    </message>
    <message>
        <source>Last four digits of the payment method</source>
        <translation>Últimos cuatro dígitos del método de pago</translation>
    </message>
    <message>
        <source>Billing address</source>
        <translation>Dirección de facturación</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>Código postal</translation>
    </message>
    <message>
        <source>Caller verified</source>
        <translation>Identidad verificada</translation>
    </message>
    <message>
        <source>Requester may cancel</source>
        <translation>Solicitante autorizado</translation>
    </message>
    <message>
        <source>No outstanding balance</source>
        <translation>Sin saldo pendiente</translation>
    </message>
    <message>
        <source>Contract terms reviewed</source>
        <translation>Condiciones del contrato revisadas</translation>
    </message>
    <message>
        <source>Licences unassigned</source>
        <translation>Licencias desasignadas</translation>
    </message>
    <message>
        <source>Data backed up</source>
        <translation>Copia de seguridad de los datos</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Verificar a la persona que llama</translation>
    </message>
    <message>
        <source>Choose another contact</source>
        <translation>Elegir otro contacto</translation>
    </message>
    <message>
        <source>Record a payment</source>
        <translation>Registrar un pago</translation>
    </message>
    <message>
        <source>Unassign licences</source>
        <translation>Desasignar licencias</translation>
    </message>
    <message>
        <source>Export the account&apos;s data</source>
        <translation>Exportar los datos de la cuenta</translation>
    </message>
    <message>
        <source>{frequency} is not a billing frequency.</source>
        <extracomment>a subscription starts (trial, expired trial, new or bought again): no proration the add-ons billed until now and going on (not cancelled) added by the order: new ones, or cancelled ones again cancelled add-ons added again that are paid for the current period: credited for its unused days like the running ones (the new period bills them again); one not added again simply runs out at its ``ends_on``, neither credited nor billed</extracomment>
        <translation>{frequency} no es una frecuencia de facturación.</translation>
    </message>
    <message>
        <source>{product} has no plan {plan}.</source>
        <translation>{product} no tiene el plan {plan}.</translation>
    </message>
    <message>
        <source>{product} has no add-on {addon}.</source>
        <translation>{product} no tiene el complemento {addon}.</translation>
    </message>
    <message>
        <source>The number of licences must be a whole number.</source>
        <translation>El número de licencias debe ser un número entero.</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>{kind} is not a kind of cart item.</source>
        <translation>{kind} no es un tipo de elemento del carrito.</translation>
    </message>
    <message>
        <source>The subscription is not a {product} plan.</source>
        <translation>La suscripción no es un plan de {product}.</translation>
    </message>
    <message>
        <source>{product} has ended. Subscribe to it again to use it.</source>
        <translation>{product} ha finalizado. Vuelva a suscribirse para utilizarlo.</translation>
    </message>
    <message>
        <source>{product} is being cancelled. Reactivate it before changing the plan.</source>
        <translation>{product} tiene una cancelación pendiente. Reactívelo antes de cambiar el plan.</translation>
    </message>
    <message>
        <source>{product} is already subscribed. Edit the subscription to change it.</source>
        <translation>Ya hay una suscripción a {product}. Edite la suscripción para cambiarla.</translation>
    </message>
    <message>
        <source>{product} already includes {addon}.</source>
        <translation>{product} ya incluye {addon}.</translation>
    </message>
    <message>
        <source>Choose the new value for {product}.</source>
        <translation>Elija el nuevo valor para {product}.</translation>
    </message>
    <message>
        <source>This does not change the subscription.</source>
        <translation>Esto no cambia la suscripción.</translation>
    </message>
    <message>
        <source>Contact your representative {name} to make product or licensing changes</source>
        <translation>Póngase en contacto con su representante, {name}, para hacer cambios en los productos o las licencias</translation>
    </message>
    <message>
        <source>Account {account} is closed.</source>
        <extracomment>options menu → Edit subscription (the checkout wizard) options menu → Cancel subscription (online or assisted cancellation wizard) options menu → Reactivate (a pending cancellation, before it takes effect) the *Subscribe now* button of an ended trial (the checkout wizard) why not (a translatable English template with its values); ``None`` when available the subscription&apos;s version, for the optimistic-locking check of an action catalog family (``remote_support``, ``collaboration``…): the icon&apos;s colour fixed term: last day to cancel without it renewing (term end − 30 days) fixed term still running whose 30-day notice window has passed: it renews how the product is cancelled: online by the customer or through support the next date an invoice is issued for it; ``None`` when it is not billed again the first day without service of a pending cancellation (or of an active plan that does not renew); ``None`` otherwise cancelled (or expired trial): the day it ended cancelled: when its data is marked for deletion (ended + 90 days) what the next billing date becomes if a pending cancellation is reactivated names of the add-ons in use plan tiers, lowest first the lowest monthly list price of one licence in the account&apos;s currency</extracomment>
        <translation>La cuenta {account} está cerrada.</translation>
    </message>
    <message>
        <source>{product} {plan} cannot be bought in {currency}.</source>
        <translation>{product} {plan} no se puede comprar en {currency}.</translation>
    </message>
    <message>
        <source>The cart</source>
        <translation>El carrito</translation>
    </message>
    <message>
        <source>Cart item</source>
        <translation>Elemento del carrito</translation>
    </message>
    <message>
        <source>Enter a card or bank account: there is no valid payment method on file.</source>
        <extracomment>Longest idempotency key the orders table stores. billing address of the card; empty fields take the account&apos;s address What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method&apos;s id. licences paid before the order (0 for a trial or a new subscription) the new billing period: today → today + one period (end = next billing date) plan price per licence for one period of the new frequency the full new period, plan and add-ons (net of VAT) what the current configuration costs per period (None: nothing paid) credit for the unused days of the current paid period (zero for trials) the unused part of the current period that is credited the version of the subscription as priced (``None``: a new subscription); see :attr:`OrderPreview.subscription_versions` version of the stored cart previewed (pass to ``place_order``); None for unsaved items exactly what the invoice will hold the card or bank account that will be charged, e.g. &quot;Visa •••• 4242&quot; its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to charge exactly the method shown, even if the default changed since corporate: invoiced on payment terms instead of charged the account data the figures were computed with: pass it to ``place_order(expected_account_terms=...)`` so that the order is refused (:class:`ConflictError`) if one of them changed since this preview licences not assigned to anyone (offer to assign them) due at checkout (total − credit applied) charged now to ``payment_method`` left open on the invoice (corporate: payable on terms) a negative total becomes account credit licences were added: the next step offers to assign them ``next_period`` (a pure function of its arguments; its periods are immutable)</extracomment>
        <translation>Introduzca una tarjeta o una cuenta bancaria: no hay ningún método de pago válido registrado.</translation>
    </message>
    <message>
        <source>Confirm the payment method for the new subscription.</source>
        <translation>Confirme el método de pago de la nueva suscripción.</translation>
    </message>
    <message>
        <source>Confirm the payment method: the new plan costs more.</source>
        <translation>Confirme el método de pago: el nuevo plan cuesta más.</translation>
    </message>
    <message>
        <source>Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.</source>
        <translation>Añada el número de IVA si la empresa tiene uno; sin él, se cobra un IVA del {rate} % ({country}).</translation>
    </message>
    <message>
        <source>The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.</source>
        <translation>La prueba gratuita de {product} finaliza hoy en lugar del {trial_end}: la suscripción de pago empieza ahora.</translation>
    </message>
    <message>
        <source>{product} stays on its fixed-term agreement until {term_end}.</source>
        <translation>{product} mantiene su contrato de plazo fijo hasta el {term_end}.</translation>
    </message>
    <message>
        <source>After the order, assign the new {product} licences to users.</source>
        <translation>Después del pedido, asigne las nuevas licencias de {product} a los usuarios.</translation>
    </message>
    <message>
        <source>{amount} becomes account credit and is used by later invoices.</source>
        <translation>{amount} pasa al saldo a favor y se aplicará a las facturas posteriores.</translation>
    </message>
    <message>
        <source>The order is invoiced, payable within {days} days.</source>
        <translation>El pedido se factura, con pago a {days} días.</translation>
    </message>
    <message>
        <source>The purchase order {po} expired on {expiry}.</source>
        <translation>La orden de compra {po} caducó el {expiry}.</translation>
    </message>
    <message>
        <source>The cart is empty: there is nothing to order.</source>
        <translation>El carrito está vacío: no hay nada que pedir.</translation>
    </message>
    <message>
        <source>The order token must be 1 to {max} characters long.</source>
        <extracomment>the SET clause comes from the values given (always the same columns) moves the version of a subscription the order checked but did not otherwise update checks (and locks) an account row the order does not otherwise change at its version</extracomment>
        <translation>El token del pedido debe tener entre 1 y {max} caracteres.</translation>
    </message>
    <message>
        <source>Payment method</source>
        <extracomment>PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)</extracomment>
        <translation>Método de pago</translation>
    </message>
    <message>
        <source>{method} cannot be charged: choose another payment method.</source>
        <translation>No se puede cobrar con {method}: elija otro método de pago.</translation>
    </message>
    <message>
        <source>The order</source>
        <translation>El pedido</translation>
    </message>
    <message>
        <source>This order token was already used for another order.</source>
        <translation>Este token de pedido ya se ha utilizado para otro pedido.</translation>
    </message>
    <message>
        <source>Corporate accounts pay by invoice on their payment terms, not by card.</source>
        <translation>Las cuentas corporativas pagan mediante factura según sus condiciones de pago, no con tarjeta.</translation>
    </message>
    <message>
        <source>The clock can only move forward: {date} is before the current date {today}.</source>
        <translation>El reloj solo puede avanzar: {date} es anterior a la fecha actual, {today}.</translation>
    </message>
    <message>
        <source>Invoice</source>
        <extracomment>ISO 3166 code (&quot;IT&quot;); the renderer writes the country&apos;s name signed: a proration credit is negative purchase order number (corporate accounts) percent, e.g. Decimal(&quot;22&quot;) for 22 % app_settings keys of the seller block The illustrative seller of demo and unconfigured databases (not a real company).
----------
SPEC §3: &quot;Up to five invoice recipient emails besides the billing contact.&quot; the first line&apos;s service description (&quot;… and N more&quot; is for the UI) open and past its due date when support voided it (None unless ``status`` is ``void``) VAT rate in percent (22.00 = 22 %) last day a dispute is accepted (issue date + 15 days) when support voided it and why (None unless ``status`` is ``void``) the billing contact always receives invoices up to five more addresses</extracomment>
        <translation>Factura</translation>
    </message>
    <message>
        <source>{what} {key} was not found; it may have been deleted.</source>
        <translation>{what} {key}: no se ha encontrado; es posible que se haya eliminado.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} at {changed_at} — reload to see the current data. Your input is kept.</source>
        <translation>{what}: {changed_by} hizo cambios el {changed_at}; vuelva a cargar para ver los datos actuales. Lo que ha introducido se conserva.</translation>
    </message>
    <message>
        <source>{what} was changed by {changed_by} in the meantime — reload to see the current data. Your input is kept.</source>
        <translation>{what}: {changed_by} ha hecho cambios mientras tanto; vuelva a cargar para ver los datos actuales. Lo que ha introducido se conserva.</translation>
    </message>
    <message>
        <source>{what} was changed by someone else in the meantime; reload to see the current data. Your input is kept.</source>
        <translation>{what}: otra persona ha hecho cambios mientras tanto; vuelva a cargar para ver los datos actuales. Lo que ha introducido se conserva.</translation>
    </message>
    <message>
        <source>The export could not be written to {path}: {reason}</source>
        <extracomment>identifies the JSON document&apos;s layout The CSV files of an export, in the order they are written, and their columns.</extracomment>
        <translation>No se ha podido escribir la exportación en {path}: {reason}</translation>
    </message>
    <message>
        <source>The invoice</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>La factura</translation>
    </message>
    <message>
        <source>The invoice recipients</source>
        <translation>Los destinatarios de facturas</translation>
    </message>
    <message>
        <source>Enter the {what}.</source>
        <translation>Introduzca {what}.</translation>
    </message>
    <message>
        <source>The {what} is longer than {max} characters.</source>
        <translation>Se ha superado el máximo de {max} caracteres en {what}.</translation>
    </message>
    <message>
        <source>{status} is not an invoice status.</source>
        <translation>{status} no es un estado de factura.</translation>
    </message>
    <message>
        <source>dispute note</source>
        <translation>la nota de la reclamación</translation>
    </message>
    <message>
        <source>Invoice {invoice} is void and cannot be disputed.</source>
        <translation>La factura {invoice} está anulada y no se puede reclamar.</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>el motivo</translation>
    </message>
    <message>
        <source>Only open invoices can be voided; {invoice} is {status}.</source>
        <translation>Solo se pueden anular las facturas abiertas; el estado de {invoice} es: {status}.</translation>
    </message>
    <message>
        <source>Invoice {invoice} has payments recorded against it and cannot be voided.</source>
        <translation>La factura {invoice} tiene pagos registrados y no se puede anular.</translation>
    </message>
    <message>
        <source>{email} is not a valid email address.</source>
        <translation>{email} no es una dirección de correo electrónico válida.</translation>
    </message>
    <message>
        <source>Invoices can go to at most {max} addresses besides the billing contact; {count} were given.</source>
        <translation>Las facturas se pueden enviar como máximo a {max} direcciones además del contacto de facturación; se han indicado {count}.</translation>
    </message>
    <message>
        <source>The licence assignments</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Las asignaciones de licencias</translation>
    </message>
    <message>
        <source>{value} is not a contact id.</source>
        <extracomment>Subscriptions whose seats can be assigned (a trial counts as live). the subscription&apos;s version, for ``expected_version`` of assign/unassign contact ids holding a seat after the call, in assignment order contacts whose seat was added (assign) or removed (unassign) by this call contacts asked for that were already in the wanted state (no-op) the subscription&apos;s version after the call (for the next ``expected_version``)</extracomment>
        <translation>{value} no es un ID de contacto.</translation>
    </message>
    <message>
        <source>{contact} is a contact of another account and cannot hold a licence of account {account}.</source>
        <translation>{contact} es un contacto de otra cuenta y no puede tener una licencia de la cuenta {account}.</translation>
    </message>
    <message>
        <source>Licences of {product} cannot be assigned: the subscription is {status}.</source>
        <translation>No se pueden asignar licencias de {product}: el estado de la suscripción es: {status}.</translation>
    </message>
    <message>
        <source>Only {free} of the {licences} licences of {product} are free; {requested} contacts were to be assigned. Buy more licences or unassign some first.</source>
        <translation>Solo quedan libres {free} de las {licences} licencias de {product} y se iban a asignar {requested} contactos. Compre más licencias o primero desasigne alguna.</translation>
    </message>
    <message>
        <source>Operator</source>
        <extracomment>The roles an operator can have, most powerful first (SPEC §6). At most this many corporate accounts per list (the search narrows it down). has a password, so can sign in to a shared database sign-in refused until then after repeated failures (None: not locked) corporate accounts assigned to this operator as representative
----------
``app_settings`` key (with the OS login appended) holding the local operator&apos;s id. one &quot;@&quot; with something on both sides; a bare host (&quot;root@localhost&quot;, the automatic identity) is allowed, as it is a real address on the machine</extracomment>
        <translation>Operador</translation>
    </message>
    <message>
        <source>You are no longer an active administrator of this database; sign in again to continue.</source>
        <translation>Ya no es un administrador activo de esta base de datos; vuelva a iniciar sesión para continuar.</translation>
    </message>
    <message>
        <source>{name} is the last active administrator. Make another operator an administrator first.</source>
        <translation>{name} es el último administrador activo. Primero asigne el rol Administrador a otro operador.</translation>
    </message>
    <message>
        <source>{role} is not an operator role.</source>
        <translation>{role} no es un rol de operador.</translation>
    </message>
    <message>
        <source>You cannot disable yourself; another administrator can.</source>
        <translation>No puede desactivar su propio acceso; puede hacerlo otro administrador.</translation>
    </message>
    <message>
        <source>Only corporate accounts have a representative; {account} is a standard account.</source>
        <translation>Solo las cuentas corporativas tienen representante; {account} es una cuenta estándar.</translation>
    </message>
    <message>
        <source>{name} is not a representative. Only operators with the role Representative can be assigned corporate accounts.</source>
        <translation>{name} no es representante. Solo se pueden asignar cuentas corporativas a operadores con el rol Representante.</translation>
    </message>
    <message>
        <source>{name} is disabled and cannot be assigned accounts.</source>
        <translation>{name} tiene el acceso desactivado y no se le pueden asignar cuentas.</translation>
    </message>
    <message>
        <source>Enter your name.</source>
        <translation>Introduzca su nombre.</translation>
    </message>
    <message>
        <source>The name may have at most {max} characters.</source>
        <translation>El nombre puede tener como máximo {max} caracteres.</translation>
    </message>
    <message>
        <source>Your operator identity</source>
        <translation>Su identidad de operador</translation>
    </message>
    <message>
        <source>Another operator already uses the email {email}.</source>
        <translation>Otro operador ya utiliza el correo electrónico {email}.</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Correo electrónico</translation>
    </message>
    <message>
        <source>The payment methods</source>
        <extracomment>what a lost optimistic-locking race changed</extracomment>
        <translation>Los métodos de pago</translation>
    </message>
    <message>
        <source>Enter the name of the account holder.</source>
        <extracomment>e.g. &quot;Visa •••• 4242&quot;, &quot;Bank account •••• 3000&quot; a card whose expiry month is before today&apos;s month net days of a corporate account&apos;s invoices (the default when none is recorded); None for a self-service account amount due on open invoices (&quot;Pay balance&quot; pays it) and account credit what &quot;Pay balance&quot; charges: the default card or bank account (&quot;Visa •••• 4242&quot;), None when the payment is recorded as a bank transfer that default card has expired: &quot;Pay balance&quot; would be refused until it is replaced the operator may change payment methods, autopay and record payments here (SPEC §6) the account&apos;s version, for ``expected_version`` of the writes False when autopay already had the requested value (nothing written) the invoice is fully paid after this payment the part of the amount above the balance, now account credit outstanding balance and account credit after the payment</extracomment>
        <translation>Introduzca el nombre del titular de la cuenta.</translation>
    </message>
    <message>
        <source>The holder name is longer than {max} characters.</source>
        <translation>El nombre del titular supera los {max} caracteres.</translation>
    </message>
    <message>
        <source>The card {method} expired in {month:02d}/{year}; add a new card.</source>
        <translation>La tarjeta {method} caducó en {month:02d}/{year}; añada una tarjeta nueva.</translation>
    </message>
    <message>
        <source>{country} is not a two-letter country code (e.g. IT, NL).</source>
        <translation>{country} no es un código de país de dos letras (p. ej., ES, IT).</translation>
    </message>
    <message>
        <source>An address field is longer than {max} characters.</source>
        <translation>Un campo de la dirección supera los {max} caracteres.</translation>
    </message>
    <message>
        <source>{method} is the only payment method of account {account}, which pays its subscriptions automatically. Add another payment method or turn autopay off first.</source>
        <translation>{method} es el único método de pago de la cuenta {account}, que paga sus suscripciones automáticamente. Primero añada otro método de pago o desactive el pago automático.</translation>
    </message>
    <message>
        <source>Corporate account {account} pays by invoice on its payment terms; autopay cannot be turned on.</source>
        <translation>La cuenta corporativa {account} paga mediante factura según sus condiciones de pago; no se puede activar el pago automático.</translation>
    </message>
    <message>
        <source>Add a card or bank account to account {account} before turning autopay on.</source>
        <translation>Añada una tarjeta o una cuenta bancaria a la cuenta {account} antes de activar el pago automático.</translation>
    </message>
    <message>
        <source>The payment reference is longer than {max} characters.</source>
        <translation>La referencia del pago supera los {max} caracteres.</translation>
    </message>
    <message>
        <source>Account {account} has nothing to pay.</source>
        <translation>La cuenta {account} no tiene nada pendiente de pago.</translation>
    </message>
    <message>
        <source>Account {account} is billed in {currency}; a payment in {other} cannot be recorded.</source>
        <translation>La cuenta {account} se factura en {currency}; no se puede registrar un pago en {other}.</translation>
    </message>
    <message>
        <source>A payment must be more than zero.</source>
        <translation>Un pago debe ser superior a cero.</translation>
    </message>
    <message>
        <source>Renewals can run only up to today ({today}) on a real database, not to {date}.</source>
        <extracomment>the logger ``queue_email`` reports a failing renderer to the subscription, or None for an overdue event (which concerns the account) the renewal invoice issued (renewals), and its status (``paid`` or ``open``) that invoice&apos;s total the email queued for it (trial ending, trial ended, renewal invoice) renewals: the end of the period (or term) now running; None when none follows overdue events: how many open invoices fell overdue the run covered the days after this date … … up to and including this one renewal invoices issued, in issue order total of the renewal invoices, one amount per currency open invoices that fell overdue during the run the simulated date after the run (demo databases), else None every event processed, in processing order (only with ``advance(details=True)``) ``never_bought`` or ``cancelled`` when the last subscription of it ended (cancelled products) when that subscription&apos;s data is marked for deletion (cancelled products) why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked) the subscription, or the account for an overdue event per currency, the sum of the amounts (Decimal: quicker than adding Money) the event it is the outcome of (set by ``_Engine._apply``) the email each kind of event queues (when its outcome counts one) bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged lines and figures per configuration (bulk path; the catalog is fixed for a run) ids per ``IN`` list (one query per table for a whole chunk) records kept between chunks, at most (then loaded afresh) (subscription_addons.id, ends_on) of each active add-on, in the same order (period_start, period_end) of its termination lines on invoices that are not void, read when a renewal of it needs them (None: not yet) ``method_summary`` of it (&quot;Visa •••• 4242&quot;) open invoices: sum of what is due, and how many fall due on each date the four figures as the row holds them (only those that differ are written) ``account_vat`` of the account, once asked ``payable_method`` of the account (it does not change during a run), once asked the transaction&apos;s own sqlite3 connection: no statement compiling, no row wrapping rows to insert per table, as tuples in the order of :data:`_COLUMNS` subscription_addons that ended (set inactive) the account figures the engine changes, in the order of ``_AccountRec.figures`` the columns each inserted row gives, in order (the order rows go in: ids and references) ``str(total.amount)``, as the audit entry of a renewal holds it ``audit.record``&apos;s JSON</extracomment>
        <translation>En una base de datos real, las renovaciones solo se pueden procesar hasta hoy ({today}), no hasta el {date}.</translation>
    </message>
    <message>
        <source>{product} is not sold in {currency}.</source>
        <translation>{product} no se vende en {currency}.</translation>
    </message>
    <message>
        <source>The connection security must be none, STARTTLS or SSL/TLS.</source>
        <extracomment>seconds to wait for the server before giving up on this run app_settings key of each field minutes to wait after the n-th failed attempt (the last one repeats) False: no server configured, nothing was attempted (emails stay queued) emails still waiting after the run (queued, or failed and to be retried) a server-level problem (unreachable, login refused), if any: translatable why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text`` when the last failed attempt was made (None for queued and sent ones) when a failed email is tried again (None for queued and sent ones)</extracomment>
        <translation>La seguridad de la conexión debe ser ninguna, STARTTLS o SSL/TLS.</translation>
    </message>
    <message>
        <source>{host} is not a valid server name.</source>
        <translation>{host} no es un nombre de servidor válido.</translation>
    </message>
    <message>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>El puerto debe ser un número entre 1 y 65535.</translation>
    </message>
    <message>
        <source>The sender address {address} is not a valid email address.</source>
        <translation>La dirección del remitente {address} no es una dirección de correo electrónico válida.</translation>
    </message>
    <message>
        <source>A password needs a user name.</source>
        <translation>Una contraseña necesita un nombre de usuario.</translation>
    </message>
    <message>
        <source>The timeout must be from 1 to 600 seconds.</source>
        <translation>El tiempo de espera debe estar entre 1 y 600 segundos.</translation>
    </message>
    <message>
        <source>The server {server} refused the user name or password ({reply}).</source>
        <translation>El servidor {server} ha rechazado el nombre de usuario o la contraseña ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the recipient {address} ({reply}).</source>
        <translation>El servidor ha rechazado el destinatario {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server refused the sender address {address} ({reply}).</source>
        <translation>El servidor ha rechazado la dirección del remitente {address} ({reply}).</translation>
    </message>
    <message>
        <source>The server {server} does not support the chosen connection security or login ({detail}).</source>
        <translation>El servidor {server} no admite la seguridad de conexión o el inicio de sesión elegidos ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} closed the connection ({detail}).</source>
        <translation>El servidor {server} ha cerrado la conexión ({detail}).</translation>
    </message>
    <message>
        <source>The server {server} answered {reply}.</source>
        <translation>El servidor {server} ha respondido {reply}.</translation>
    </message>
    <message>
        <source>The secure connection to {server} failed ({detail}).</source>
        <translation>Ha fallado la conexión segura con {server} ({detail}).</translation>
    </message>
    <message>
        <source>The email has no recipient address.</source>
        <translation>El correo electrónico no tiene dirección de destinatario.</translation>
    </message>
    <message>
        <source>The server {server} did not answer within {seconds} seconds.</source>
        <translation>El servidor {server} no ha respondido en {seconds} segundos.</translation>
    </message>
    <message>
        <source>The server name {host} cannot be found ({detail}).</source>
        <translation>No se encuentra el nombre de servidor {host} ({detail}).</translation>
    </message>
    <message>
        <source>Nothing answers at {server}. Check that the mail server is running and that the server name and port are right.</source>
        <translation>No responde nada en {server}. Compruebe que el servidor de correo esté en funcionamiento y que el nombre del servidor y el puerto sean correctos.</translation>
    </message>
    <message>
        <source>Cannot connect to {server} ({detail}).</source>
        <translation>No se puede conectar con {server} ({detail}).</translation>
    </message>
    <message>
        <source>Sending failed ({detail}).</source>
        <translation>Ha fallado el envío ({detail}).</translation>
    </message>
    <message>
        <source>Enter the name of the mail server first.</source>
        <extracomment>A test waits at most this long for the server, whatever the settings say.</extracomment>
        <translation>Primero introduzca el nombre del servidor de correo.</translation>
    </message>
    <message>
        <source>{address} is not a valid email address for the test email.</source>
        <translation>{address} no es una dirección de correo electrónico válida para el correo de prueba.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended. Subscribe now to buy a plan.</source>
        <translation>La prueba gratuita de {product} ha finalizado. Pulse Suscribirse ahora para comprar un plan.</translation>
    </message>
    <message>
        <source>Subscribe now is offered when a free trial has ended; {product} is not an ended trial.</source>
        <translation>Suscribirse ahora se ofrece cuando ha finalizado una prueba gratuita; {product} no es una prueba finalizada.</translation>
    </message>
    <message>
        <source>{database} is not a demo database. Resets, snapshots and new demo data are only for demo databases; it was left unchanged.</source>
        <extracomment>seconds a reset or restore waits for another connection&apos;s write to finish</extracomment>
        <translation>{database} no es una base de datos de demostración. Los restablecimientos, las instantáneas y los nuevos datos de demostración son solo para bases de datos de demostración; no se ha modificado.</translation>
    </message>
    <message>
        <source>The demo database {database} is busy with another change. Wait until it has finished and try again; nothing was replaced.</source>
        <translation>La base de datos de demostración {database} está ocupada con otro cambio. Espere a que termine y vuelva a intentarlo; no se ha reemplazado nada.</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists.</source>
        <translation>Ya existe una instantánea llamada «{name}».</translation>
    </message>
    <message>
        <source>Demo databases and snapshots need a database file; {database} is on a server.</source>
        <translation>Las bases de datos de demostración y las instantáneas necesitan un archivo de base de datos; {database} está en un servidor.</translation>
    </message>
    <message>
        <source>The snapshot “{name}” cannot be restored: its file is missing, damaged or from another version of Billing Desktop. The demo database was left unchanged.</source>
        <translation>No se puede restaurar la instantánea «{name}»: su archivo no existe, está dañado o es de otra versión de Billing Desktop. La base de datos de demostración no se ha modificado.</translation>
    </message>
    <message>
        <source>Snapshot</source>
        <extracomment>the &quot;what&quot; of NotFound for a snapshot, translated by the UI</extracomment>
        <translation>Instantánea</translation>
    </message>
    <message>
        <source>Give the snapshot a name.</source>
        <extracomment>the file&apos;s name inside :func:`snapshot_folder` when it was saved (the computer&apos;s clock) the demo&apos;s simulated date at that moment</extracomment>
        <translation>Asigne un nombre a la instantánea.</translation>
    </message>
    <message>
        <source>A snapshot name can have at most {max} characters.</source>
        <translation>El nombre de una instantánea puede tener como máximo {max} caracteres.</translation>
    </message>
    <message>
        <source>This is a real database: it has no simulated time, so its clock cannot be moved. Open a demo database to move the clock.</source>
        <extracomment>how far one move may take the clock: a date years away would run every renewal of every year on the way (and dates near 9999 cannot be computed at all) the events &quot;to next event&quot; stops at (issue 7: renewal, trial end, cancellation end, term end); notices, overdue invoices and data retention happen on the way</extracomment>
        <translation>Esta es una base de datos real: no tiene fecha simulada, así que su reloj no se puede adelantar. Abra una base de datos de demostración para adelantar el reloj.</translation>
    </message>
    <message>
        <source>The clock only moves forward: choose a date after {today}, not {date}.</source>
        <extracomment>what each engine event appears as (a renewal also as an invoice and an email) invoiced (and renewed): the invoice, its status (``paid``/``open``) and total renewed / term renewed: the end of the new period or term (None: the last one) emailed: the email&apos;s kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``), its recipient and row id overdue: how many of the account&apos;s invoices fell overdue that day the date before the move … … the date asked for … … and the date now (the one asked for, unless the run was cancelled midway) the trainer cancelled: what was done until then is kept, the clock stopped at ``clock`` events that failed (left out, retried by the next move) the engine&apos;s own summary (counts) the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order renewals: the total of the invoice it will issue (as things stand now)</extracomment>
        <translation>El reloj solo avanza: elija una fecha posterior al {today}, no el {date}.</translation>
    </message>
    <message>
        <source>The clock moves at most {years} years at a time: choose a date until {latest}, not {date}.</source>
        <translation>El reloj avanza como máximo {years} años cada vez: elija una fecha hasta el {latest}, no el {date}.</translation>
    </message>
    <message>
        <source>The email address or the password is not correct.</source>
        <extracomment>Seconds every refused attempt waits before it answers. Consecutive wrong passwords that lock the operator. The first lock; each further wrong password doubles it … … up to this. Long passphrases are welcome; this only keeps a pasted file out. OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations. ``app_settings`` key written with the first administrator: a second concurrent :func:`create_first_admin` fails on its primary key.</extracomment>
        <translation>El correo electrónico o la contraseña no son correctos.</translation>
    </message>
    <message>
        <source>This operator has been disabled. Ask an administrator to enable it again.</source>
        <translation>Este operador está desactivado. Pida a un administrador que lo vuelva a activar.</translation>
    </message>
    <message>
        <source>Too many failed sign-ins. Try again in {minutes} min.</source>
        <translation>Demasiados intentos fallidos de inicio de sesión. Vuelva a intentarlo dentro de {minutes} min.</translation>
    </message>
    <message>
        <source>This database already has an administrator. Sign in with your email address and password, or ask an administrator to create your operator.</source>
        <translation>Esta base de datos ya tiene un administrador. Inicie sesión con su correo electrónico y su contraseña, o pida a un administrador que cree su operador.</translation>
    </message>
    <message>
        <source>The password must have at least {min} characters.</source>
        <extracomment>Passwords long enough but guessed first by anyone (folded, without spaces).</extracomment>
        <translation>La contraseña debe tener al menos {min} caracteres.</translation>
    </message>
    <message>
        <source>The password may have at most {max} characters.</source>
        <translation>La contraseña puede tener como máximo {max} caracteres.</translation>
    </message>
    <message>
        <source>The password must not be the email address.</source>
        <translation>La contraseña no puede ser el correo electrónico.</translation>
    </message>
    <message>
        <source>The password must not be the operator&apos;s name.</source>
        <translation>La contraseña no puede ser el nombre del operador.</translation>
    </message>
    <message>
        <source>This password is too easy to guess. A few unrelated words make a good password.</source>
        <translation>Esta contraseña es demasiado fácil de adivinar. Unas cuantas palabras sin relación entre sí forman una buena contraseña.</translation>
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
        <translation>&amp;Claro</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>&amp;Oscuro</translation>
    </message>
    <message>
        <source>The look and colours of your desktop.</source>
        <translation>El aspecto y los colores de su escritorio.</translation>
    </message>
    <message>
        <source>Dark text on light backgrounds.</source>
        <translation>Texto oscuro sobre fondos claros.</translation>
    </message>
    <message>
        <source>Light text on dark backgrounds, easier at night.</source>
        <translation>Texto claro sobre fondos oscuros, más cómodo de noche.</translation>
    </message>
    <message>
        <source>None (plain text)</source>
        <translation>Ninguna (texto sin cifrar)</translation>
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
        <translation>Configuración</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Páginas de configuración</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Creating the administrator…</source>
        <extracomment>QSettings key: the email of the last operator who signed in on this computer the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts the machine&apos;s time (whole seconds, as the services&apos; system clock) the signed-in operator once the dialog accepted</extracomment>
        <translation>Creando el administrador…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Iniciando sesión…</translation>
    </message>
    <message>
        <source>Enter your name, email address and a password.</source>
        <translation>Introduzca su nombre, su correo electrónico y una contraseña.</translation>
    </message>
    <message>
        <source>The two passwords are not the same; type it again.</source>
        <translation>Las dos contraseñas no coinciden; vuelva a escribirla.</translation>
    </message>
    <message>
        <source>Enter your email address and password.</source>
        <translation>Introduzca su correo electrónico y su contraseña.</translation>
    </message>
    <message>
        <source>The database server did not answer. Check the network connection and try again.</source>
        <translation>El servidor de base de datos no ha respondido. Compruebe la conexión de red y vuelva a intentarlo.</translation>
    </message>
    <message>
        <source>Sign In — Billing Desktop</source>
        <translation>Iniciar sesión — Billing Desktop</translation>
    </message>
    <message>
        <source>Set up the first administrator</source>
        <translation>Configurar el primer administrador</translation>
    </message>
    <message>
        <source>Nobody can sign in to this shared database yet. Create the first administrator: you sign in with this email address and password, and can then add the other operators.</source>
        <translation>Todavía nadie puede iniciar sesión en esta base de datos compartida. Cree el primer administrador: usted iniciará sesión con este correo electrónico y esta contraseña, y después podrá añadir a los demás operadores.</translation>
    </message>
    <message>
        <source>Create &amp;Administrator</source>
        <translation>Crear &amp;administrador</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Iniciar sesión</translation>
    </message>
    <message>
        <source>This database is shared by a team. Sign in with your operator account.</source>
        <translation>Esta base de datos la comparte un equipo. Inicie sesión con su cuenta de operador.</translation>
    </message>
    <message>
        <source>&amp;Sign In</source>
        <translation>&amp;Iniciar sesión</translation>
    </message>
    <message>
        <source>Database: {name}</source>
        <translation>Base de datos: {name}</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nombre:</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>&amp;Correo electrónico:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>C&amp;ontraseña:</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>&amp;Repetir contraseña:</translation>
    </message>
    <message>
        <source>At least {count} characters, not your email address. A few unrelated words make a good password that is easy to remember.</source>
        <translation>Al menos {count} caracteres, y que no sea su correo electrónico. Unas cuantas palabras sin relación entre sí forman una buena contraseña, fácil de recordar.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Salir</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
</context>
<context>
    <name>SmtpPage</name>
    <message>
        <source>Mail server</source>
        <translation>Servidor de correo</translation>
    </message>
    <message>
        <source>Billing Desktop test email</source>
        <translation>Correo de prueba de Billing Desktop</translation>
    </message>
    <message>
        <source>This is a test email from Billing Desktop.

It arrived, so the mail server settings work: emails to customers will be sent through {server}.</source>
        <translation>Este es un correo de prueba de Billing Desktop.

Si lo ha recibido, la configuración del servidor de correo funciona: los correos a los clientes se enviarán a través de {server}.</translation>
    </message>
    <message>
        <source>Sending the test email…</source>
        <translation>Enviando el correo de prueba…</translation>
    </message>
    <message>
        <source>Test email</source>
        <translation>Correo de prueba</translation>
    </message>
    <message>
        <source>Sending a test email to {address}…</source>
        <translation>Enviando un correo de prueba a {address}…</translation>
    </message>
    <message>
        <source>The test email was sent to {address}. Check that it arrived.</source>
        <translation>Se ha enviado el correo de prueba a {address}. Compruebe que ha llegado.</translation>
    </message>
    <message>
        <source>The test was cancelled.</source>
        <translation>Se ha cancelado la prueba.</translation>
    </message>
    <message>
        <source>Correct the settings above, then send the test again.</source>
        <translation>Corrija la configuración anterior y vuelva a enviar la prueba.</translation>
    </message>
    <message>
        <source>Mail server (SMTP)</source>
        <translation>Servidor de correo (SMTP)</translation>
    </message>
    <message>
        <source>Ser&amp;ver:</source>
        <translation>Ser&amp;vidor:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Puerto:</translation>
    </message>
    <message>
        <source>Se&amp;curity:</source>
        <translation>Se&amp;guridad:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>&amp;Usuario:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>&amp;Contraseña:</translation>
    </message>
    <message>
        <source>Sender &amp;address:</source>
        <translation>&amp;Dirección del remitente:</translation>
    </message>
    <message>
        <source>&amp;Timeout:</source>
        <translation>&amp;Tiempo de espera:</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds</comment>
        <translation> s</translation>
    </message>
    <message>
        <source>Leave empty to keep emails in the outbox, unsent.</source>
        <translation>Déjelo vacío para mantener los correos en la bandeja de salida, sin enviar.</translation>
    </message>
    <message>
        <source>empty if the server needs no login</source>
        <translation>vacío si el servidor no requiere inicio de sesión</translation>
    </message>
    <message>
        <source>Your role cannot change the mail server; ask an administrator.</source>
        <translation>Su rol no permite cambiar el servidor de correo; pídaselo a un administrador.</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>Prueba</translation>
    </message>
    <message>
        <source>Send t&amp;o:</source>
        <translation>&amp;Enviar a:</translation>
    </message>
    <message>
        <source>Send t&amp;est email</source>
        <translation>Enviar correo de p&amp;rueba</translation>
    </message>
    <message>
        <source>Send one email with the settings above, saved or not</source>
        <translation>Enviar un correo con la configuración anterior, esté guardada o no</translation>
    </message>
</context>
<context>
    <name>SnapshotsDialog</name>
    <message>
        <source>Save Current State</source>
        <extracomment>a value to sort by (text, datetime or ISO date) a snapshot was restored into the open database (carries its ``SnapshotInfo``)</extracomment>
        <translation>Guardar estado actual</translation>
    </message>
    <message>
        <source>Name of the snapshot:</source>
        <translation>Nombre de la instantánea:</translation>
    </message>
    <message>
        <source>State on {date}</source>
        <translation>Estado del {date}</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Guardar</translation>
    </message>
    <message>
        <source>Saved the snapshot “{name}”.</source>
        <translation>Se ha guardado la instantánea «{name}».</translation>
    </message>
    <message>
        <source>Replace Snapshot</source>
        <translation>Reemplazar instantánea</translation>
    </message>
    <message>
        <source>A snapshot named “{name}” already exists. Replace it with the current state?</source>
        <translation>Ya existe una instantánea llamada «{name}». ¿Desea reemplazarla por el estado actual?</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Reemplazar</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot. The simulated date goes back to {date}.</source>
        <translation>Se pierde todo lo que se haya hecho desde que se guardó, salvo lo que esté en otra instantánea. La fecha simulada vuelve al {date}.</translation>
    </message>
    <message>
        <source>Everything done since it was saved is lost, unless it is in another snapshot.</source>
        <translation>Se pierde todo lo que se haya hecho desde que se guardó, salvo lo que esté en otra instantánea.</translation>
    </message>
    <message>
        <source>Restore Snapshot</source>
        <translation>Restaurar instantánea</translation>
    </message>
    <message>
        <source>Return the demo database to the snapshot “{name}”?</source>
        <translation>¿Devolver la base de datos de demostración a la instantánea «{name}»?</translation>
    </message>
    <message>
        <source>&amp;Restore</source>
        <translation>&amp;Restaurar</translation>
    </message>
    <message>
        <source>Delete Snapshot</source>
        <translation>Eliminar instantánea</translation>
    </message>
    <message>
        <source>Delete the snapshot “{name}”?</source>
        <translation>¿Eliminar la instantánea «{name}»?</translation>
    </message>
    <message>
        <source>The demo database itself does not change.</source>
        <translation>La base de datos de demostración en sí no cambia.</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Eliminar</translation>
    </message>
    <message>
        <source>Deleted the snapshot “{name}”.</source>
        <translation>Se ha eliminado la instantánea «{name}».</translation>
    </message>
    <message>
        <source>Snapshots</source>
        <translation>Instantáneas</translation>
    </message>
    <message>
        <source>A snapshot keeps the demo database as it is now, so you can return to it and repeat a scene.</source>
        <translation>Una instantánea guarda la base de datos de demostración tal como está ahora, para que pueda volver a ella y repetir una escena.</translation>
    </message>
    <message>
        <source>No snapshots yet. Save the current state to come back to it later.</source>
        <translation>Todavía no hay instantáneas. Guarde el estado actual para volver a él más tarde.</translation>
    </message>
    <message>
        <source>&amp;Save Current State…</source>
        <translation>&amp;Guardar estado actual…</translation>
    </message>
    <message>
        <source>Only administrators and trainers can save and restore snapshots.</source>
        <translation>Solo los administradores y los formadores pueden guardar y restaurar instantáneas.</translation>
    </message>
</context>
<context>
    <name>SnapshotsModel</name>
    <message>
        <source>Name</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <source>Taken</source>
        <translation>Creada</translation>
    </message>
    <message>
        <source>Simulated date</source>
        <translation>Fecha simulada</translation>
    </message>
</context>
<context>
    <name>StillBilledPage</name>
    <message>
        <source>No refund: what was already billed is not refunded, and the products stay usable until the dates above.</source>
        <translation>Sin reembolso: lo que ya se ha facturado no se reembolsa y los productos se pueden seguir utilizando hasta las fechas indicadas arriba.</translation>
    </message>
    <message>
        <source>The trial simply ends on {date}; nothing is billed.</source>
        <translation>La prueba simplemente finaliza el {date}; no se factura nada.</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled before the agreement ends, its remaining months are still billed: the current period, already invoiced, and %n more month(s) on an early-termination invoice. It stays active until the original end date, {date}.</source>
        <translation>
            <numerusform>Si se cancela antes de que finalice el contrato, se siguen facturando los meses restantes: el período actual, ya facturado, y %n mes más en una factura por rescisión anticipada. Sigue activo hasta la fecha de fin original, el {date}.</numerusform>
            <numerusform>Si se cancela antes de que finalice el contrato, se siguen facturando los meses restantes: el período actual, ya facturado, y %n meses más en una factura por rescisión anticipada. Sigue activo hasta la fecha de fin original, el {date}.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled during the year, the whole year is billed (it was invoiced at its start) and it stays active until {date}.</source>
        <translation>Si se cancela durante el año, se factura el año completo (se facturó al principio) y sigue activo hasta el {date}.</translation>
    </message>
    <message>
        <source>Cancelled mid-month, the whole month is billed (it was invoiced at its start) and it stays active until the end of the month, {date}.</source>
        <translation>Si se cancela a mitad de mes, se factura el mes completo (se facturó al principio) y sigue activo hasta el final del mes, el {date}.</translation>
    </message>
    <message numerus="yes">
        <source>%n month(s)</source>
        <translation>
            <numerusform>%n mes</numerusform>
            <numerusform>%n meses</numerusform>
        </translation>
    </message>
    <message>
        <source>Contract:</source>
        <translation>Contrato:</translation>
    </message>
    <message>
        <source>Current period:</source>
        <translation>Período actual:</translation>
    </message>
    <message>
        <source>Current period, already invoiced:</source>
        <translation>Período actual, ya facturado:</translation>
    </message>
    <message>
        <source>Remaining months, billed now:</source>
        <translation>Meses restantes, facturados ahora:</translation>
    </message>
    <message>
        <source>Months still billed:</source>
        <translation>Meses que se siguen facturando:</translation>
    </message>
    <message>
        <source>Still billed:</source>
        <translation>Se sigue facturando:</translation>
    </message>
    <message>
        <source>Active until:</source>
        <translation>Activo hasta:</translation>
    </message>
    <message>
        <source>Refund:</source>
        <translation>Reembolso:</translation>
    </message>
    <message>
        <source>Data deleted on:</source>
        <translation>Datos eliminados el:</translation>
    </message>
    <message>
        <source>Still billed in total:</source>
        <translation>Total que se sigue facturando:</translation>
    </message>
    <message>
        <source>Billed now for the remaining months (net):</source>
        <translation>Facturado ahora por los meses restantes (neto):</translation>
    </message>
    <message>
        <source>Early-termination invoice:</source>
        <translation>Factura por rescisión anticipada:</translation>
    </message>
    <message>
        <source>None: nothing more is billed.</source>
        <translation>Ninguna: no se factura nada más.</translation>
    </message>
    <message>
        <source>{amount} (reverse charge)</source>
        <translation>{amount} (inversión del sujeto pasivo)</translation>
    </message>
    <message>
        <source>VAT:</source>
        <translation>IVA:</translation>
    </message>
    <message>
        <source>Early-termination invoice total:</source>
        <translation>Total de la factura por rescisión anticipada:</translation>
    </message>
    <message>
        <source>Account credit used:</source>
        <translation>Saldo a favor utilizado:</translation>
    </message>
    <message>
        <source>Due now:</source>
        <translation>A pagar ahora:</translation>
    </message>
    <message>
        <source>What will still be billed</source>
        <translation>Lo que se seguirá facturando</translation>
    </message>
    <message>
        <source>Step 5 of 6: what the customer still pays, and until when it stays active.</source>
        <translation>Paso 5 de 6: lo que el cliente todavía paga y hasta cuándo sigue activo.</translation>
    </message>
    <message>
        <source>In total</source>
        <translation>En total</translation>
    </message>
</context>
<context>
    <name>SubscriptionCardWidget</name>
    <message>
        <source>&amp;Edit subscription</source>
        <extracomment>Narrowest a card may get; the grid shows as many columns as fit (at most 3). The card actions, in menu order, and the :class:`SubscriptionsTab` method opening each one&apos;s flow.</extracomment>
        <translation>&amp;Editar suscripción</translation>
    </message>
    <message>
        <source>&amp;Cancel subscription</source>
        <translation>&amp;Cancelar suscripción</translation>
    </message>
    <message>
        <source>&amp;Reactivate</source>
        <translation>&amp;Reactivar</translation>
    </message>
    <message>
        <source>&amp;Subscribe now</source>
        <translation>&amp;Suscribirse ahora</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>Prueba</translation>
    </message>
    <message>
        <source>Trial ended</source>
        <translation>Prueba finalizada</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Activa</translation>
    </message>
    <message>
        <source>Cancellation pending</source>
        <translation>Cancelación pendiente</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Cancelada</translation>
    </message>
    <message>
        <source>Monthly</source>
        <translation>Mensual</translation>
    </message>
    <message>
        <source>Annually</source>
        <translation>Anual</translation>
    </message>
    <message>
        <source>Expires on {date}</source>
        <extracomment>Badge colours (background, text, border): dark text on a light tint, readable in light and dark themes (contrast above 7:1); the word carries the meaning. Product icon colours per catalog family (decorative: the name is written next to it). Note styles: (text, background); ``None`` keeps the palette&apos;s.</extracomment>
        <translation>Caduca el {date}</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Opciones</translation>
    </message>
    <message>
        <source>Options for {product}</source>
        <translation>Opciones de {product}</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Licences</source>
        <translation>Licencias</translation>
    </message>
    <message>
        <source>{assigned} of {total} assigned</source>
        <comment>licences</comment>
        <translation>{assigned} de {total} asignadas</translation>
    </message>
    <message>
        <source>Billing frequency</source>
        <translation>Frecuencia de facturación</translation>
    </message>
    <message>
        <source>Contract</source>
        <translation>Contrato</translation>
    </message>
    <message>
        <source>Add-ons</source>
        <translation>Complementos</translation>
    </message>
    <message>
        <source>{product}, {status}</source>
        <translation>{product}, {status}</translation>
    </message>
    <message>
        <source>Press Space or Enter for the options.</source>
        <translation>Pulse Espacio o Intro para ver las opciones.</translation>
    </message>
    <message>
        <source>{months}-month fixed term, ends on {date}</source>
        <translation>Plazo fijo de {months} meses, finaliza el {date}</translation>
    </message>
    <message>
        <source>Fixed term, ends on {date}</source>
        <translation>Plazo fijo, finaliza el {date}</translation>
    </message>
    <message>
        <source>Month-to-month</source>
        <translation>Mes a mes</translation>
    </message>
    <message>
        <source>Trial ends on</source>
        <translation>La prueba finaliza el</translation>
    </message>
    <message>
        <source>Trial ended on</source>
        <translation>La prueba finalizó el</translation>
    </message>
    <message>
        <source>Ended on</source>
        <translation>Finalizó el</translation>
    </message>
    <message>
        <source>Next billing date</source>
        <translation>Próxima fecha de facturación</translation>
    </message>
    <message>
        <source>None: it is not renewed</source>
        <translation>Ninguna: no se renueva</translation>
    </message>
    <message>
        <source>The notice period ended on {deadline}: the agreement renews for another term on {end}.</source>
        <translation>El plazo de preaviso terminó el {deadline}: el contrato se renueva por otro período el {end}.</translation>
    </message>
    <message>
        <source>The agreement renews on {end} unless it is cancelled by {deadline}.</source>
        <translation>El contrato se renueva el {end}, salvo que se cancele a más tardar el {deadline}.</translation>
    </message>
</context>
<context>
    <name>SubscriptionsTab</name>
    <message>
        <source>This account has no subscriptions yet.</source>
        <extracomment>Emitted after an action changed the account (a wizard completed). A wizard asked for another tab of the account page (&quot;licences&quot;, &quot;invoices&quot;…). the wizard (or Reactivate dialog) opened from this tab, while it is open</extracomment>
        <translation>Esta cuenta todavía no tiene suscripciones.</translation>
    </message>
    <message numerus="yes">
        <source>Cart: %n item(s)</source>
        <translation>
            <numerusform>Carrito: %n artículo</numerusform>
            <numerusform>Carrito: %n artículos</numerusform>
        </translation>
    </message>
    <message>
        <source>Discover other products</source>
        <translation>Descubra otros productos</translation>
    </message>
    <message>
        <source>Products this account has cancelled or never bought.</source>
        <translation>Productos que esta cuenta ha cancelado o no ha comprado nunca.</translation>
    </message>
    <message>
        <source>Re&amp;view cart</source>
        <translation>&amp;Revisar carrito</translation>
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
        <translation>Renovación</translation>
    </message>
    <message>
        <source>Contract term ends and renews</source>
        <translation>Fin y renovación del plazo del contrato</translation>
    </message>
    <message>
        <source>Cancellation takes effect</source>
        <translation>Entrada en vigor de la cancelación</translation>
    </message>
    <message>
        <source>Trial ends</source>
        <translation>Fin de la prueba</translation>
    </message>
    <message>
        <source>“Trial ending” email</source>
        <translation>Correo «Fin próximo de la prueba»</translation>
    </message>
    <message>
        <source>Invoice falls overdue</source>
        <translation>Vencimiento de factura</translation>
    </message>
    <message>
        <source>Data marked for deletion</source>
        <translation>Datos marcados para su eliminación</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Fecha</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Evento</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Cuenta</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Empresa</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Producto</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Importe</translation>
    </message>
    <message>
        <source>Invoice {number} falls overdue</source>
        <translation>Vence la factura {number}</translation>
    </message>
    <message>
        <source>The renewal invoice&apos;s total as the subscription stands today</source>
        <translation>El total de la factura de renovación según el estado actual de la suscripción</translation>
    </message>
    <message>
        <source>Nothing is due after {date}.</source>
        <extracomment>a row was activated: the account&apos;s id set once the panel has data (or tried); reloads are explicit after that</extracomment>
        <translation>No hay nada pendiente después del {date}.</translation>
    </message>
    <message>
        <source>What the next moves of the clock will do, after {date}:</source>
        <translation>Lo que harán los próximos avances del reloj, después del {date}:</translation>
    </message>
    <message>
        <source>Upcoming Events</source>
        <translation>Próximos eventos</translation>
    </message>
    <message>
        <source>&amp;Upcoming Events</source>
        <translation>Próximos &amp;eventos</translation>
    </message>
    <message>
        <source>Show what the next moves of the simulated clock will do</source>
        <translation>Mostrar lo que harán los próximos avances del reloj simulado</translation>
    </message>
    <message>
        <source>Upcoming events</source>
        <translation>Próximos eventos</translation>
    </message>
</context>
<context>
    <name>VerifyCallerPage</name>
    <message>
        <source>{mark} Matches</source>
        <extracomment>the caller confirmed their own backup (check box) where this wizard exported the account&apos;s data the versions of the selected subscriptions, read just before the checklist page&apos;s checklist (what &quot;Unassign all&quot; sends: optimistic locking) the account&apos;s version when the preview was shown (optimistic locking)</extracomment>
        <translation>{mark} Coincide</translation>
    </message>
    <message>
        <source>{mark} {sentence}</source>
        <translation>{mark} {sentence}</translation>
    </message>
    <message>
        <source>{mark} The caller is verified ({time}). Go on with Next.</source>
        <translation>{mark} La identidad de la persona que llama está verificada ({time}). Continúe con Siguiente.</translation>
    </message>
    <message>
        <source>The caller could not be verified: {fields} did not match.</source>
        <translation>No se ha podido verificar la identidad de la persona que llama; no coinciden: {fields}.</translation>
    </message>
    <message numerus="yes">
        <source>%n verification attempt(s) in a row failed. This has been recorded in the account&apos;s activity. Do not go on: ask the billing admin to call back.</source>
        <translation>
            <numerusform>Ha fallado %n intento de verificación seguido. Se ha registrado en la actividad de la cuenta. No continúe: pida al administrador de facturación que vuelva a llamar.</numerusform>
            <numerusform>Han fallado %n intentos de verificación seguidos. Se ha registrado en la actividad de la cuenta. No continúe: pida al administrador de facturación que vuelva a llamar.</numerusform>
        </translation>
    </message>
    <message>
        <source>Attempt {attempt} of {limit} failed. Check the details with the caller.</source>
        <translation>Ha fallado el intento {attempt} de {limit}. Compruebe los datos con la persona que llama.</translation>
    </message>
    <message>
        <source>The account ID does not match.</source>
        <translation>El ID de cuenta no coincide.</translation>
    </message>
    <message>
        <source>This is not the email of a billing admin of the account.</source>
        <translation>Este no es el correo electrónico de un administrador de facturación de la cuenta.</translation>
    </message>
    <message>
        <source>No card or bank account on file ends in these digits.</source>
        <translation>Ninguna tarjeta ni cuenta bancaria registrada termina en estos dígitos.</translation>
    </message>
    <message>
        <source>The billing address does not match the payment method&apos;s.</source>
        <translation>La dirección de facturación no coincide con la del método de pago.</translation>
    </message>
    <message>
        <source>The postal code does not match the payment method&apos;s.</source>
        <translation>El código postal no coincide con el del método de pago.</translation>
    </message>
    <message>
        <source>Verify the caller</source>
        <translation>Verificar a la persona que llama</translation>
    </message>
    <message>
        <source>Step 1 of 6: before anything else, make sure the caller is who they say.</source>
        <translation>Paso 1 de 6: antes de nada, asegúrese de que la persona que llama es quien dice ser.</translation>
    </message>
    <message>
        <source>Ask the caller for these details and type what they say. They are compared with account {account}; only whether each one matched is recorded, never what was said.</source>
        <translation>Pida estos datos a la persona que llama y escriba lo que le diga. Se comparan con la cuenta {account}; solo se registra si cada dato coincide, nunca lo que se ha dicho.</translation>
    </message>
    <message>
        <source>&amp;Account ID:</source>
        <translation>&amp;ID de cuenta:</translation>
    </message>
    <message>
        <source>Billing admin &amp;email:</source>
        <translation>&amp;Correo del administrador de facturación:</translation>
    </message>
    <message>
        <source>&amp;Last four digits of the payment method:</source>
        <translation>Últimos cuatro &amp;dígitos del método de pago:</translation>
    </message>
    <message>
        <source>Billing a&amp;ddress (street and number):</source>
        <translation>Dirección de factu&amp;ración (calle y número):</translation>
    </message>
    <message>
        <source>&amp;Postal code of the billing address:</source>
        <translation>Código &amp;postal de la dirección de facturación:</translation>
    </message>
    <message>
        <source>e.g. A-100001</source>
        <translation>p. ej., A-100001</translation>
    </message>
    <message>
        <source>4 digits</source>
        <translation>4 dígitos</translation>
    </message>
    <message>
        <source>&amp;Verify caller</source>
        <translation>&amp;Verificar identidad</translation>
    </message>
</context>
<context>
    <name>Walkthroughs</name>
    <message>
        <source>{account} was not opened: the account shown has unsaved changes.</source>
        <extracomment>conditions that are states: they count when they already hold as the step becomes current the English source sentence (context &quot;Walkthroughs&quot;) with {placeholders} what &quot;Show me&quot; points at: an objectName path, alternatives separated by &quot;|&quot; (the first one on screen wins); ``{product}`` is the walkthrough&apos;s product the warning&apos;s English source (&quot;&quot; when the scene is ready) what the service said: the card&apos;s reason, or the error reading the cards</extracomment>
        <translation>No se ha abierto {account}: la cuenta mostrada tiene cambios sin guardar.</translation>
    </message>
    <message>
        <source>{account} no longer shows this scene. Reset the demo database to play it again.</source>
        <translation>{account} ya no muestra esta escena. Restablezca la base de datos de demostración para repetirla.</translation>
    </message>
    <message>
        <source>Open {company} ({account}) on its Subscriptions tab: one card per product, as on the Subscriptions page of the Billing Center.</source>
        <extracomment>the seed article (&quot;000&quot;); the curated account whose scenario starts with &quot;Article 000&quot; tells the story the catalog code of the product the story is about the card action the scene needs (&quot;cancel&quot;, &quot;edit&quot;, &quot;subscribe&quot;): when the account&apos;s card no longer offers it, Prepare says so the account page&apos;s tab Prepare opens</extracomment>
        <translation>Abra {company} ({account}) en la pestaña Suscripciones: una tarjeta por producto, como en la página Suscripciones del Centro de facturación.</translation>
    </message>
    <message>
        <source>Click the options icon (⋮) in the top-right corner of the {product} card.</source>
        <translation>Haga clic en el icono de opciones (⋮) de la esquina superior derecha de la tarjeta de {product}.</translation>
    </message>
    <message>
        <source>Cancel a subscription online</source>
        <translation>Cancelar una suscripción en línea</translation>
    </message>
    <message>
        <source>Help article 000: the billing contact of {company} ({account}) stops the automatic renewal of {product}.</source>
        <translation>Artículo de ayuda 000: el contacto de facturación de {company} ({account}) detiene la renovación automática de {product}.</translation>
    </message>
    <message>
        <source>The card now says Cancellation pending. Until the plan expires, Reactivate in the options menu keeps it. A free trial without billing information needs none of this: it simply expires.</source>
        <translation>La tarjeta indica ahora Cancelación pendiente. Hasta que caduque el plan, Reactivar en el menú de opciones lo mantiene. Una prueba gratuita sin datos de facturación no necesita nada de esto: simplemente caduca.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription.</source>
        <translation>Elija Cancelar suscripción.</translation>
    </message>
    <message>
        <source>Go through the confirmation with the customer: the plan stays active until the end of the paid period and is then not renewed. Choose who asks and why, then click Yes, cancel.</source>
        <translation>Repase la confirmación con el cliente: el plan sigue activo hasta el final del período pagado y después no se renueva. Elija quién lo solicita y el motivo, y haga clic en Sí, cancelar.</translation>
    </message>
    <message>
        <source>The result shows the expiry date and the confirmation email sent to the billing contact. Click Close.</source>
        <translation>El resultado muestra la fecha de caducidad y el correo de confirmación enviado al contacto de facturación. Haga clic en Cerrar.</translation>
    </message>
    <message>
        <source>Remove user licences</source>
        <translation>Quitar licencias de usuario</translation>
    </message>
    <message>
        <source>Help article 001: {company} ({account}) pays for more {product} licences than it needs and removes some.</source>
        <translation>Artículo de ayuda 001: {company} ({account}) paga más licencias de {product} de las que necesita y quita algunas.</translation>
    </message>
    <message>
        <source>The change took effect at once: the unused days of the removed licences became a credit on the account, and the billing date moved to today.</source>
        <translation>El cambio ha entrado en vigor de inmediato: los días no utilizados de las licencias quitadas han pasado al saldo a favor de la cuenta y la fecha de facturación ha pasado a hoy.</translation>
    </message>
    <message>
        <source>Choose Edit subscription: the checkout opens on the current plan.</source>
        <translation>Elija Editar suscripción: el pedido se abre con el plan actual.</translation>
    </message>
    <message>
        <source>Lower the number of licences (not below those assigned to users) and click Add to cart.</source>
        <translation>Reduzca el número de licencias (no por debajo de las asignadas a usuarios) y haga clic en Añadir al carrito.</translation>
    </message>
    <message>
        <source>The cart shows the change. Click Checkout.</source>
        <translation>El carrito muestra el cambio. Haga clic en Pagar.</translation>
    </message>
    <message>
        <source>On Complete transaction, check the billing period (it starts today), the licences, the plan price, the credit for the unused days and the total, then click Place order.</source>
        <translation>En Completar la transacción, compruebe el período de facturación (empieza hoy), las licencias, el precio del plan, el abono por los días no utilizados y el total, y haga clic en Realizar pedido.</translation>
    </message>
    <message>
        <source>The result shows the new billing date and the confirmation email. Click Close.</source>
        <translation>El resultado muestra la nueva fecha de facturación y el correo de confirmación. Haga clic en Cerrar.</translation>
    </message>
    <message>
        <source>Cancel through support</source>
        <translation>Cancelar a través del soporte</translation>
    </message>
    <message>
        <source>Help article 002: {product} is cancelled only through support. A billing admin of {company} ({account}) calls to cancel it.</source>
        <translation>Artículo de ayuda 002: {product} solo se cancela a través del soporte. Un administrador de facturación de {company} ({account}) llama para cancelarlo.</translation>
    </message>
    <message>
        <source>The card says Cancellation pending: {product} stays active, and billed, until the agreement ends, and then moves to Discover other products.</source>
        <translation>La tarjeta indica Cancelación pendiente: {product} sigue activo, y se factura, hasta que finaliza el contrato, y después pasa a Descubra otros productos.</translation>
    </message>
    <message>
        <source>Choose Cancel subscription: {product} cannot be cancelled online, so the assisted cancellation opens.</source>
        <translation>Elija Cancelar suscripción: {product} no se puede cancelar en línea, así que se abre la cancelación asistida.</translation>
    </message>
    <message>
        <source>Verify the caller: enter the account ID, the billing admin&apos;s email, the last four digits of the payment card and its billing address as the caller gives them, click Verify, then Next.</source>
        <translation>Verifique la identidad de la persona que llama: introduzca el ID de cuenta, el correo del administrador de facturación, los cuatro últimos dígitos de la tarjeta de pago y su dirección de facturación tal como se los indique, y haga clic en Verificar identidad y después en Siguiente.</translation>
    </message>
    <message>
        <source>Choose who is asking: only a super admin or a billing admin may ask to cancel. Click Next.</source>
        <translation>Elija quién lo solicita: solo un superadministrador o un administrador de facturación puede solicitar la cancelación. Haga clic en Siguiente.</translation>
    </message>
    <message>
        <source>Before you cancel: pay the open balance, unassign the licences and export the account&apos;s data (or confirm that the caller has a backup) until every item is ticked, then click Next.</source>
        <translation>Antes de cancelar: pague el saldo pendiente, desasigne las licencias y exporte los datos de la cuenta (o confirme que la persona que llama tiene una copia de seguridad) hasta que todos los puntos estén marcados, y haga clic en Siguiente.</translation>
    </message>
    <message>
        <source>Check what will be cancelled and click Next.</source>
        <translation>Compruebe lo que se va a cancelar y haga clic en Siguiente.</translation>
    </message>
    <message>
        <source>Tell the caller what is still billed: the agreement stays active, and is billed, until its end date, without a refund. Click Next.</source>
        <translation>Explique a la persona que llama lo que se sigue facturando: el contrato sigue activo, y se factura, hasta su fecha de fin, sin reembolso. Haga clic en Siguiente.</translation>
    </message>
    <message>
        <source>Choose the reason and click Cancel subscriptions.</source>
        <translation>Elija el motivo y haga clic en Cancelar suscripciones.</translation>
    </message>
    <message>
        <source>The result lists what was cancelled, the invoice for the rest of the agreement and the confirmation email. Click Close.</source>
        <translation>El resultado muestra lo que se ha cancelado, la factura por el resto del contrato y el correo de confirmación. Haga clic en Cerrar.</translation>
    </message>
    <message>
        <source>Subscribe when the free trial ends</source>
        <translation>Suscribirse al finalizar la prueba gratuita</translation>
    </message>
    <message>
        <source>Help article 003: the {product} trial of {company} ({account}) ended without a charge. The billing contact turns it into a paid plan.</source>
        <translation>Artículo de ayuda 003: la prueba de {product} de {company} ({account}) ha finalizado sin ningún cargo. El contacto de facturación la convierte en un plan de pago.</translation>
    </message>
    <message>
        <source>The plan is active from today and the Users &amp; licences tab is open to assign the seats. A trial that nobody converts simply expires, without a charge.</source>
        <translation>El plan está activo desde hoy y la pestaña Usuarios y licencias está abierta para asignar las licencias. Una prueba que nadie convierte simplemente caduca, sin ningún cargo.</translation>
    </message>
    <message>
        <source>The free trial of {product} has ended: its card says Trial ended and offers Subscribe now. Click Subscribe now.</source>
        <translation>La prueba gratuita de {product} ha finalizado: su tarjeta indica Prueba finalizada y ofrece Suscribirse ahora. Haga clic en Suscribirse ahora.</translation>
    </message>
    <message>
        <source>Change the plan tier, the number of licences or the billing frequency if you like, then click Checkout.</source>
        <translation>Si lo desea, cambie el nivel del plan, el número de licencias o la frecuencia de facturación, y haga clic en Pagar.</translation>
    </message>
    <message>
        <source>Review the order on Complete transaction (Edit order goes back to change it) and click Checkout.</source>
        <translation>Revise el pedido en Completar la transacción (Editar pedido vuelve atrás para cambiarlo) y haga clic en Pagar.</translation>
    </message>
    <message>
        <source>Enter the payment card and the account&apos;s VAT number, then click Place order.</source>
        <translation>Introduzca la tarjeta de pago y el número de IVA de la cuenta, y haga clic en Realizar pedido.</translation>
    </message>
    <message>
        <source>The result confirms the purchase. Click Assign licences now to give the new seats to users.</source>
        <translation>El resultado confirma la compra. Haga clic en Asignar licencias ahora para asignar las nuevas licencias a los usuarios.</translation>
    </message>
    <message>
        <source>Change the plan</source>
        <translation>Cambiar el plan</translation>
    </message>
    <message>
        <source>Help article 004: {company} ({account}) upgrades {product} to a higher tier, more licences or another billing period.</source>
        <translation>Artículo de ayuda 004: {company} ({account}) cambia {product} a un nivel superior, más licencias u otro período de facturación.</translation>
    </message>
    <message>
        <source>The new plan applies from today and the rest of the old period was prorated. A lower tier is not offered online: the wizard says to contact Customer Care.</source>
        <translation>El nuevo plan se aplica desde hoy y el resto del período anterior se ha prorrateado. Un nivel inferior no se ofrece en línea: el asistente indica que hay que ponerse en contacto con Atención al cliente.</translation>
    </message>
    <message>
        <source>Choose Edit subscription.</source>
        <translation>Elija Editar suscripción.</translation>
    </message>
    <message>
        <source>Choose a higher plan tier, more licences or another billing frequency, check the order summary at the bottom of the page and click Checkout.</source>
        <translation>Elija un nivel de plan superior, más licencias u otra frecuencia de facturación, revise el Resumen del pedido en la parte inferior de la página y haga clic en Pagar.</translation>
    </message>
    <message>
        <source>Check the billing period (it starts today), the licences, the prices and the total. Click Checkout, confirm the payment method if the new plan costs more, and click Place order.</source>
        <translation>Compruebe el período de facturación (empieza hoy), las licencias, los precios y el total. Haga clic en Pagar, confirme el método de pago si el nuevo plan cuesta más y haga clic en Realizar pedido.</translation>
    </message>
    <message>
        <source>The result shows the new plan and billing date. Click Close.</source>
        <translation>El resultado muestra el nuevo plan y la nueva fecha de facturación. Haga clic en Cerrar.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to Billing Desktop</source>
        <extracomment>&quot;Open the demo database&quot; was clicked. &quot;Start with an empty database&quot; was clicked.</extracomment>
        <translation>Le damos la bienvenida a Billing Desktop</translation>
    </message>
    <message>
        <source>Billing Desktop keeps customer accounts, their subscriptions, licences and invoices. This database is new and has no accounts yet: explore the application with sample customers first, or start working right away.</source>
        <translation>Billing Desktop gestiona las cuentas de los clientes, sus suscripciones, licencias y facturas. Esta base de datos es nueva y todavía no tiene cuentas: explore primero la aplicación con clientes de ejemplo o empiece a trabajar directamente.</translation>
    </message>
    <message>
        <source>Database: {path}</source>
        <translation>Base de datos: {path}</translation>
    </message>
    <message>
        <source>Open the demo database</source>
        <translation>Abrir la base de datos de demostración</translation>
    </message>
    <message>
        <source>Sample accounts in a separate file, with a simulated clock you can move forward. This database stays empty.</source>
        <translation>Cuentas de ejemplo en un archivo aparte, con un reloj simulado que puede adelantar. Esta base de datos sigue vacía.</translation>
    </message>
    <message>
        <source>Start with an empty database</source>
        <translation>Empezar con una base de datos vacía</translation>
    </message>
    <message>
        <source>Go to the accounts list and start working in this database.</source>
        <translation>Ir a la lista de cuentas y empezar a trabajar en esta base de datos.</translation>
    </message>
</context>
<context>
    <name>_ClockMenu</name>
    <message>
        <source>Simulated &amp;Clock</source>
        <translation>&amp;Reloj simulado</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Day</source>
        <translation>Avanzar un &amp;día</translation>
    </message>
    <message>
        <source>Move Forward One &amp;Month</source>
        <translation>Avanzar un &amp;mes</translation>
    </message>
    <message>
        <source>Move to the &amp;Next Event</source>
        <translation>Ir al &amp;siguiente evento</translation>
    </message>
    <message>
        <source>Move to a D&amp;ate…</source>
        <translation>Ir a una &amp;fecha…</translation>
    </message>
</context>
</TS>
