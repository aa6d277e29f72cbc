# USB/IP over mutual TLS, loopback in one guest: `virttools usbipd` with a certificate, a client CA, --require-tls and a
# grant for one client identity; the stick imported by Connect-UsbIpDevice -UseTls reads back the same 16 MiB as on
# the server side, through the relays on both sides (the kernel holds one end of a socket pair on each). Refused, with
# nothing bound: stock `usbip attach` (plain), a client without a certificate, one signed by another CA, one without a
# grant. Certificates are made here with .NET, which needs the guest's libssl.so.3/libcrypto.so.3 (initramfs.sh).
# The relay's cost: the whole stick read with O_DIRECT through a plain import first, then through the TLS one; each
# read once, hashed, to check it and warm up, then, once the server and this process have gone idle, three times to
# /dev/null and three times through sha256sum, the fastest of each (LAB-BENCH line, bench/RESULTS.md).
# 10-tls-agent does the same attach through a client agent's profile.
# The warm-up reads (up to 180 s per import) and the waits for idle processes (up to 120 s each, a few seconds once
# compiled) come on top of the timed reads:
# lab-timeout: 1200
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$folder = '/tmp/lab-tls'

# An import's figures: one hashed read first (the bytes checked, and the relay's code compiled before it is measured),
# then reads until the relay's hot code is compiled; then, once the server and this process are idle, the fastest of
# three reads to /dev/null (the transport alone) and the fastest of three through sha256sum (a reader that needs the
# CPU too, as a copy or a checksum does). Both relays of a TLS import run here: the server's in $ServerId, the
# client's in this process.
function Measure-LabDiskReads([string] $Device, [string] $Case, [string] $Expected, [int] $ServerId) {
    Assert-LabEqual $Expected (Get-LabDiskReadHash $Device) "$Case : the whole block device reads back the same bytes (sha256)"
    Wait-LabRelayCompiled { Read-LabDisk $Device } $Case $ServerId
    $processes = @{ server = $ServerId; client = $PID }
    return [pscustomobject]@{
        Bare = Get-LabFastestRead (Invoke-LabTimedReads $Device $Case $processes) $Case $Expected
        Hashed = Get-LabFastestRead (Invoke-LabTimedReads $Device $Case $processes -Hash) $Case $Expected -Hash
    }
}

# Where the relay's time could go, said before it is measured: the guest CPU's crypto flags, and each TLS 1.3 cipher's
# own speed here (16 MiB sealed in 16 KiB records, as a TLS stream does it; both relays seal or open each byte once).
function Write-LabCipherDiagnostics {
    $flags = @((Read-LabFile '/proc/cpuinfo') -split "`n" | Where-Object { $_ -match '^flags' } | Select-Object -First 1)
    $present = foreach ($flag in 'aes', 'pclmulqdq', 'avx', 'avx2', 'ssse3', 'erms', 'fsrm') { if (" $flags " -match " $flag ") { $flag } }
    Write-LabLine "LAB-DIAG tls-relay cpu_flags=$($present -join ',')"
    $key = [byte[]]::new(32); $nonce = [byte[]]::new(12); $tag = [byte[]]::new(16)
    $plain = [byte[]]::new(16KB); $sealed = [byte[]]::new(16KB)
    $ciphers = [ordered]@{ aes128gcm = [Security.Cryptography.AesGcm]::new([byte[]]::new(16), 16) }
    if ([Security.Cryptography.ChaCha20Poly1305]::IsSupported) { $ciphers.chacha20poly1305 = [Security.Cryptography.ChaCha20Poly1305]::new($key) }
    foreach ($name in $ciphers.Keys) {
        for ($i = 0; $i -lt 16; $i++) { $ciphers[$name].Encrypt($nonce, $plain, $sealed, $tag) } # the loop compiled, the library loaded
        $clock = [Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt 1024; $i++) { $ciphers[$name].Encrypt($nonce, $plain, $sealed, $tag) }
        Write-LabLine ('LAB-DIAG tls-relay cipher={0} mib_s={1:0.0}' -f $name, (16 / $clock.Elapsed.TotalSeconds))
        $ciphers[$name].Dispose()
    }
}

function Test-LabNothingBound([string] $Case) {
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "$Case : $busId stays available (usbip_status 1)"
    Assert-LabEqual 0 @(Get-LabImportedUsbDevice).Count "$Case : nothing on a vhci_hcd bus"
}

Initialize-LabUsbIp
Reset-LabUsbIp # a scenario killed at its time limit leaves the stick attached or exported
$daemon = $null
$port = $null
try {
    New-LabCertificateSet $folder
    Write-LabCipherDiagnostics

    $disk = Wait-Lab { $null -ne (Find-LabDisk '/usb\d+/\d+-\d+/') } 20
    $serverDisk = Find-LabDisk '/usb\d+/\d+-\d+/'
    Assert-Lab $disk "kernel: the stick has a block device on the server side ($serverDisk)"
    $serverHash = if ($serverDisk) { Get-LabDiskHash $serverDisk }

    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId is exported"

    # The plain figure: the same server with no TLS, the kernel's sockets end to end.
    $daemon = Start-LabVirtTools 'usbipd --address 127.0.0.1 --port 3240'
    $listed = Wait-Lab { @(Get-UsbIpDevice -ComputerName 127.0.0.1 -TimeoutSec 30 -ErrorAction SilentlyContinue).Count -eq 1 } 60
    Assert-Lab $listed 'plain: the server lists the stick'
    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId -TimeoutSec 60 -Confirm:$false
    $plainDisk = if ((Wait-Lab { $null -ne (Find-LabDisk '/vhci_hcd\.') } 30)) { Find-LabDisk '/vhci_hcd\.' }
    Assert-Lab ($null -ne $plainDisk) "plain: the stick imported without TLS has a block device ($plainDisk)"
    $plain = if ($plainDisk) { Measure-LabDiskReads $plainDisk 'plain' $serverHash $daemon.Id }
    if ($port) { Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false; $port = $null }
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "plain: detached, $busId is available again"
    $daemon.Kill(); $null = $daemon.WaitForExit(5000); $daemon = $null

    $daemon = Start-LabVirtTools (Get-LabTlsServerArguments $folder)
    $tls = @{ UseTls = $true; ServerCaPath = "$folder/lab-ca.crt"; TimeoutSec = 60 } # a loaded TCG guest: handshakes and enumeration take seconds
    $desk = $tls + @{ CertificatePath = "$folder/desk.lab.crt"; KeyPath = "$folder/desk.lab.key" }
    $listed = Wait-Lab { @(Get-UsbIpDevice -ComputerName 127.0.0.1 @desk -ErrorAction SilentlyContinue).Count -eq 1 } 60
    Assert-Lab $listed 'Get-UsbIpDevice -UseTls with the granted client certificate lists the stick'

    $null = Invoke-LabTool usbip attach -r 127.0.0.1 -b $busId
    Assert-Lab ($LASTEXITCODE -ne 0) 'stock usbip attach is refused under --require-tls'
    Test-LabNothingBound 'plain usbip attach'

    $cases = @(
        @{ Case = 'no client certificate'; Parameters = $tls; ErrorId = 'UsbIpTlsHandshakeFailed' }
        @{ Case = 'a certificate of another CA'; Parameters = $tls + @{ CertificatePath = "$folder/stranger.lab.crt"; KeyPath = "$folder/stranger.lab.key" }; ErrorId = 'UsbIpTlsHandshakeFailed' }
        @{ Case = 'a trusted client without a grant'; Parameters = $tls + @{ CertificatePath = "$folder/neighbour.lab.crt"; KeyPath = "$folder/neighbour.lab.key" }; ErrorId = 'UsbIpDeviceNotAvailable' }
    )
    foreach ($case in $cases) {
        $parameters = $case.Parameters
        $result = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId @parameters -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        Assert-Lab ($null -eq $result) "$($case.Case): Connect-UsbIpDevice -UseTls attaches nothing"
        Assert-LabEqual $case.ErrorId "$($failures[0].FullyQualifiedErrorId)".Split(',')[0] "$($case.Case): the error says why"
        Test-LabNothingBound $case.Case
    }

    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId @desk -Confirm:$false -WarningAction SilentlyContinue
    Assert-Lab ($null -ne $port) "Connect-UsbIpDevice -UseTls with the granted certificate returned port $($port.Port)"
    $imported = Assert-LabSharedDeviceImported 'Connect-UsbIpDevice -UseTls against virttools usbipd --require-tls'
    Assert-LabEqual '2' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 2 (in use, through the server's relay)"
    $found = Wait-Lab { $null -ne (Find-LabDisk '/vhci_hcd\.') } 30
    $clientDisk = Find-LabDisk '/vhci_hcd\.'
    Assert-Lab $found "kernel: the imported stick has a block device ($clientDisk)"
    if ($clientDisk) {
        $overTls = Measure-LabDiskReads $clientDisk 'TLS' $serverHash $daemon.Id
        if ($plain.Bare -and $overTls.Bare -and $plain.Hashed -and $overTls.Hashed) {
            Write-LabLine ('LAB-BENCH tls-relay plain_mib_s={0:0.00} tls_mib_s={1:0.00} ratio={2:0.00} hashed_plain_mib_s={3:0.00} hashed_tls_mib_s={4:0.00} hashed_ratio={5:0.00}' -f
                $plain.Bare, $overTls.Bare, ($overTls.Bare / $plain.Bare), $plain.Hashed, $overTls.Hashed, ($overTls.Hashed / $plain.Hashed))
        }
    }

    if ($port) { Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false; $port = $null }
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 20) 'kernel: the import left the vhci_hcd bus'
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "kernel: the relays closed both ends and $busId is available again"
}
finally {
    if ($daemon -and -not $daemon.HasExited) { $daemon.Kill(); $null = $daemon.WaitForExit(5000) }
    Reset-LabUsbIp
    if ((Get-LabLinkName "$sysfs/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Confirm:$false -ErrorAction SilentlyContinue }
}
Complete-LabScenario
