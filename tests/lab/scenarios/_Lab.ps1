# Helpers for lab scenarios, dot-sourced by each one. A scenario checks what the KERNEL did (sysfs, /dev, /proc read
# directly) as well as what a cmdlet returned. Every assertion prints one line the guest's init and the host read:
#   LAB-OK <scenario> <text>   /   LAB-FAIL <scenario> <text>
# Only core commands exist in the embedded engine (no Write-Host, Start-Sleep, Get-Content...): .NET does the rest.
$ErrorActionPreference = 'Stop'
$script:LabScenario = [IO.Path]::GetFileNameWithoutExtension($MyInvocation.PSCommandPath)
$script:LabFailures = 0

function Write-LabLine([string] $Text) {
    [Console]::Out.WriteLine($Text)
    [Console]::Out.Flush()
}

function Assert-Lab([bool] $Condition, [string] $Text) {
    if ($Condition) { Write-LabLine "LAB-OK $script:LabScenario $Text" }
    else { $script:LabFailures++; Write-LabLine "LAB-FAIL $script:LabScenario $Text" }
}

function Assert-LabEqual($Expected, $Actual, [string] $Text) {
    Assert-Lab ($null -ne $Expected -and "$Expected" -eq "$Actual") "$Text (expected '$Expected', got '$Actual')"
}

# Stops the scenario unless every command it uses is exported: a clear failure, not a CommandNotFoundException.
function Assert-LabCommand([string[]] $Name) {
    $missing = @($Name | Where-Object { -not (Get-Command -Name $_ -Module VirtTools -ErrorAction SilentlyContinue) })
    foreach ($command in $missing) { Assert-Lab $false "not implemented: $command" }
    if ($missing.Count -gt 0) { throw "$($missing.Count) command(s) not implemented: $($missing -join ', ')" }
}

# Ends the scenario: a terminating error when an assertion failed, so virttools exits non-zero too.
function Complete-LabScenario {
    if ($script:LabFailures -gt 0) { throw "$script:LabFailures assertion(s) failed" }
}

# A sysfs/procfs attribute as trimmed text; $null when missing or unreadable.
function Read-LabFile([string] $Path) {
    if (-not [IO.File]::Exists($Path)) { return $null }
    try { return [IO.File]::ReadAllText($Path).Trim() } catch { return $null }
}

function Write-LabFile([string] $Path, [string] $Value) {
    [IO.File]::WriteAllText($Path, $Value)
}

# The name a sysfs symlink points to (a "driver" link gives the driver's name); $null when there is no link.
function Get-LabLinkName([string] $Path) {
    $target = [IO.FileInfo]::new($Path).LinkTarget
    if ($null -eq $target) { return $null }
    return [IO.Path]::GetFileName($target)
}

# The real path of a sysfs entry (links resolved), to tell e.g. an xHCI device from one on a vhci_hcd bus.
# A device that is being unplugged can vanish between listing and resolving: its path is then $null.
function Get-LabRealPath([string] $Path) {
    try { $resolved = [IO.Directory]::ResolveLinkTarget($Path, $true) } catch { return $null }
    if ($null -eq $resolved) { return $Path }
    return $resolved.FullName
}

# Polls a condition (the kernel works asynchronously: probing, enumeration, ksmd); $true when it came true in time.
function Wait-Lab([scriptblock] $Condition, [int] $TimeoutSec = 15) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        [Threading.Thread]::Sleep(100)
    }
    return [bool](& $Condition)
}

# Runs a native tool (busybox, usbip); its output lines, and the exit code in $LASTEXITCODE.
function Invoke-LabTool([string] $Tool) {
    $output = @(& $Tool @args 2>&1 | ForEach-Object { "$_" })
    Write-LabLine "  `$ $Tool $($args -join ' ') -> exit $LASTEXITCODE"
    foreach ($line in $output) { Write-LabLine "    $line" }
    return $output
}

# The PCI address of the first function with this vendor:device, read from sysfs.
function Find-LabPciAddress([string] $Vendor, [string] $Device) {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/pci/devices')) {
        if ((Read-LabFile "$dir/vendor") -eq "0x$Vendor" -and (Read-LabFile "$dir/device") -eq "0x$Device") {
            return [IO.Path]::GetFileName($dir)
        }
    }
    return $null
}

# USB devices (not interfaces, not root hubs) that sit on a vhci_hcd bus, i.e. imported over USB/IP.
function Get-LabImportedUsbDevice {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/usb/devices')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -match '^\d+-[\d.]+$' -and (Get-LabRealPath $dir) -match '/vhci_hcd\.\d+/') { $name }
    }
}

# ---- USB/IP (scenarios 02, 03): the storage device is the one shared; vhci_hcd ports are checked in its status files
$script:LabSharedBusId = '2-3'

# The vhci_hcd status line of a port ("hs  0001 006 ..."): port numbers there are global across controllers.
# Any device imported over USB/IP is present (a vhci_hcd bus holds a device).
function Test-LabImported { @(Get-LabImportedUsbDevice).Count -gt 0 }

# A client profile that attaches the stick (matched by ids: its bus id moves on a replug) from 127.0.0.1:3240 and
# keeps it attached (reconnect: true).
function Write-LabStickClientProfile([string] $Path) {
    [IO.File]::WriteAllText($Path, @"
usbip:
  attachments:
    - computerName: 127.0.0.1
      tcpPort: 3240
      match: { vendorId: "46f4", productId: "0001" }
      reconnect: true
"@)
}

# Every status row of every vhci_hcd controller as its fields: hub port sta ... (all status files are under vhci_hcd.0).
function Get-LabVhciRow {
    foreach ($file in [IO.Directory]::GetFiles('/sys/devices/platform/vhci_hcd.0', 'status*')) {
        foreach ($line in [IO.File]::ReadAllLines($file)) {
            $fields = -split $line
            if ($fields.Count -ge 3 -and $fields[1] -match '^\d+$') { , $fields }
        }
    }
}

function Get-LabVhciPortStatus([int] $Port) {
    # vhci_hcd.0 holds status, status.1...; never search sysfs recursively (it is huge and slow to walk under TCG)
    $controllers = [IO.Directory]::GetDirectories('/sys/devices/platform', 'vhci_hcd.*')
    foreach ($file in @($controllers | ForEach-Object { [IO.Directory]::GetFiles($_, 'status*') })) {
        foreach ($line in [IO.File]::ReadAllLines($file)) {
            $fields = -split $line
            if ($fields.Count -ge 3 -and $fields[1] -match '^\d+$' -and [int]$fields[1] -eq $Port) { return $fields[2] }
        }
    }
    return $null
}

# The attach records in /run/vhci_hcd (usbip's and ours). A port the kernel freed by itself (its peer died) keeps its
# record until the next attach to that port, as with usbip's own tools, so a scenario checks only what it added.
function Get-LabVhciRecord {
    if (-not [IO.Directory]::Exists('/run/vhci_hcd')) { return @() }
    return @([IO.Directory]::GetFiles('/run/vhci_hcd', 'port*') | ForEach-Object { [IO.Path]::GetFileName($_) })
}

# Loads the USB/IP drivers (the kernel's modules, as an admin would before using USB/IP).
function Initialize-LabUsbIp {
    $null = Invoke-LabTool modprobe usbip-host
    $null = Invoke-LabTool modprobe vhci-hcd
}

# Puts the shared device back as the lab found it, whatever a failed scenario left: no attachment, no export.
function Reset-LabUsbIp {
    foreach ($line in @(& usbip port 2>$null)) {
        if ("$line" -match '^Port (\d+):') { $null = & usbip detach -p $Matches[1] 2>&1 }
    }
    if ((Get-LabLinkName "/sys/bus/usb/devices/$script:LabSharedBusId/driver") -eq 'usbip-host') {
        $null = & usbip unbind -b $script:LabSharedBusId 2>&1
    }
}

# A cmdlet attaches before it returns; an agent that was just started (its process start, its server's first listen,
# its backoff) may take far longer on a loaded TCG guest: it gets a longer bound.
function Assert-LabSharedDeviceImported([string] $How, [int] $TimeoutSec = 15) {
    $ok = Wait-Lab { @(Get-LabImportedUsbDevice).Count -gt 0 } $TimeoutSec
    Assert-Lab $ok "kernel: the device appeared on a vhci_hcd bus ($How)"
    $imported = @(Get-LabImportedUsbDevice)[0]
    if (-not $imported) { return $null }
    $sysfs = "/sys/bus/usb/devices/$imported"
    Assert-LabEqual '46f4:0001' "$(Read-LabFile "$sysfs/idVendor"):$(Read-LabFile "$sysfs/idProduct")" "kernel: $imported has the shared device's vid:pid"
    Assert-LabEqual 'LAB0001' (Read-LabFile "$sysfs/serial") "kernel: $imported has the shared device's serial"
    return $imported
}

# ---- virttools daemons (scenarios 08, 09): started in the background, their log lines go to the scenario's output
function Start-LabVirtTools([string] $Arguments) {
    $process = [Diagnostics.Process]::Start('/opt/virttools/virttools', $Arguments)
    Write-LabLine "  started virttools $Arguments (pid $($process.Id))"
    return $process
}

# `virttools agent` keeping a profile true, a pass every second.
function Start-LabAgent([string] $Config, [string] $Options = '') {
    return Start-LabVirtTools "agent --config $Config --interval 1 $Options".TrimEnd()
}

function Stop-LabAgent($Agent) {
    if ($Agent -and -not $Agent.HasExited) { $Agent.Kill(); $null = $Agent.WaitForExit(5000) }
}

# ---- hot-plug through QEMU's monitor (lib/qemu.sh carries out the request; only unplug-stick and plug-stick N exist)
function Invoke-LabQemu([string] $Request) {
    Write-LabLine "LAB-QEMU $Request"
}

# The bus id the storage stick has now on the xHCI (2-3 at boot, another after a replug on another port); $null if none.
function Find-LabStick {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/usb/devices')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+-[\d.]+$' -or (Read-LabFile "$dir/serial") -ne 'LAB0001') { continue }
        $real = Get-LabRealPath $dir
        if ($real -and $real -notmatch '/vhci_hcd\.') { return $name }
    }
    return $null
}

# Unplugs the stick and plugs it back on xHCI port $Port; the bus id it comes back with, or $null after $TimeoutSec.
function Invoke-LabReplug([int] $Port, [int] $TimeoutSec = 40) {
    $before = Find-LabStick
    Invoke-LabQemu 'unplug-stick'
    $gone = Wait-Lab { $null -eq (Find-LabStick) } $TimeoutSec
    Write-LabLine "  replug: $before unplugged ($gone)"
    Invoke-LabQemu "plug-stick $Port"
    $null = Wait-Lab { $null -ne (Find-LabStick) } $TimeoutSec
    $after = Find-LabStick
    Write-LabLine "  replug: plugged on port $Port as $after"
    return $after
}

# ---- TLS (scenarios 10-tls, 10-tls-agent): certificates made in the guest with .NET (the initramfs' libssl3)
function New-LabCertificate([string] $Folder, [string] $Name, $Issuer, [string] $Purpose) {
    $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$Name", $key, 'SHA256')
    $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new(-not $Issuer, $false, 0, $true))
    $now = [DateTimeOffset]::UtcNow
    if (-not $Issuer) { $certificate = $request.CreateSelfSigned($now.AddHours(-1), $now.AddDays(1)) }
    else {
        $usage = [Security.Cryptography.OidCollection]::new()
        $null = $usage.Add([Security.Cryptography.Oid]::new($Purpose))
        $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usage, $false))
        $names = [Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
        $names.AddDnsName($Name)
        $names.AddIpAddress([Net.IPAddress]::Loopback)
        $request.CertificateExtensions.Add($names.Build())
        $issued = $request.Create($Issuer, $now.AddMinutes(-10), $now.AddHours(20), [byte[]](1, 2, 3, 4, 5, 6, 7, [byte][Random]::Shared.Next(256)))
        $certificate = [Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($issued, $key)
    }
    [IO.File]::WriteAllText("$Folder/$Name.crt", $certificate.ExportCertificatePem())
    [IO.File]::WriteAllText("$Folder/$Name.key", $key.ExportPkcs8PrivateKeyPem())
    return $certificate
}

# A CA and another one; the server's certificate for 127.0.0.1; desk.lab and neighbour.lab signed by the CA, stranger.lab by the other.
function New-LabCertificateSet([string] $Folder) {
    $null = [IO.Directory]::CreateDirectory($Folder)
    $ca = New-LabCertificate $Folder 'lab-ca' $null ''
    $other = New-LabCertificate $Folder 'other-ca' $null ''
    $null = New-LabCertificate $Folder '127.0.0.1' $ca '1.3.6.1.5.5.7.3.1'
    foreach ($client in 'desk.lab', 'neighbour.lab') { $null = New-LabCertificate $Folder $client $ca '1.3.6.1.5.5.7.3.2' }
    $null = New-LabCertificate $Folder 'stranger.lab' $other '1.3.6.1.5.5.7.3.2'
}

# `virttools usbipd` with mutual TLS only, and a grant of the stick (46f4:0001) to desk.lab alone.
function Get-LabTlsServerArguments([string] $Folder) {
    "usbipd --address 127.0.0.1 --port 3240 --tls-certificate $Folder/127.0.0.1.crt --tls-key $Folder/127.0.0.1.key " +
        "--client-ca $Folder/lab-ca.crt --require-tls --grant desk.lab=46f4:0001"
}
