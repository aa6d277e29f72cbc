# USB/IP over mutual TLS, loopback in one guest: `virttools usbipd` with a certificate, a client CA, --require-tls and a
# grant for one client identity; the stick imported by Connect-UsbIpDevice -UseTls reads back the same 16 MiB as on
# the server side, through the relays on both sides (the kernel holds one end of a socket pair on each). Refused, with
# nothing bound: stock `usbip attach` (plain), a client without a certificate, one signed by another CA, one without a
# grant. Certificates are made here with .NET, which needs the guest's libssl.so.3/libcrypto.so.3 (initramfs.sh).
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$folder = '/tmp/lab-tls'

function New-LabCertificate([string] $Name, $Issuer, [string] $Purpose) {
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
    [IO.File]::WriteAllText("$folder/$Name.crt", $certificate.ExportCertificatePem())
    [IO.File]::WriteAllText("$folder/$Name.key", $key.ExportPkcs8PrivateKeyPem())
    return $certificate
}

# The stick's block device under a given controller path pattern: /dev/sdX, or $null.
function Find-LabDisk([string] $Under) {
    foreach ($block in [IO.Directory]::GetDirectories('/sys/block', 'sd*')) {
        if ((Get-LabRealPath $block) -match $Under) { return '/dev/' + [IO.Path]::GetFileName($block) }
    }
    return $null
}

function Get-LabDiskHash([string] $Device) {
    $stream = [IO.File]::OpenRead($Device)
    try { return [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($stream)) } finally { $stream.Dispose() }
}

function Test-LabNothingBound([string] $Case) {
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "$Case : $busId stays available (usbip_status 1)"
    Assert-LabEqual 0 @(Get-LabImportedUsbDevice).Count "$Case : nothing on a vhci_hcd bus"
}

Initialize-LabUsbIp
$daemon = $null
$port = $null
try {
    $null = [IO.Directory]::CreateDirectory($folder)
    $ca = New-LabCertificate 'lab-ca' $null ''
    $other = New-LabCertificate 'other-ca' $null ''
    $null = New-LabCertificate '127.0.0.1' $ca '1.3.6.1.5.5.7.3.1'
    foreach ($client in 'desk.lab', 'neighbour.lab') { $null = New-LabCertificate $client $ca '1.3.6.1.5.5.7.3.2' }
    $null = New-LabCertificate 'stranger.lab' $other '1.3.6.1.5.5.7.3.2'

    $disk = Wait-Lab { $null -ne (Find-LabDisk '/usb\d+/\d+-\d+/') } 20
    $serverDisk = Find-LabDisk '/usb\d+/\d+-\d+/'
    Assert-Lab $disk "kernel: the stick has a block device on the server side ($serverDisk)"
    $serverHash = if ($serverDisk) { Get-LabDiskHash $serverDisk }

    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId is exported"
    $daemon = Start-LabVirtTools ("usbipd --address 127.0.0.1 --port 3240 --tls-certificate $folder/127.0.0.1.crt --tls-key $folder/127.0.0.1.key " +
        "--client-ca $folder/lab-ca.crt --require-tls --grant desk.lab=46f4:0001")
    $tls = @{ UseTls = $true; ServerCaPath = "$folder/lab-ca.crt" }
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
    if ($clientDisk -and $serverHash) {
        $started = [DateTime]::UtcNow
        Assert-LabEqual $serverHash (Get-LabDiskHash $clientDisk) 'the whole block device reads back the same bytes over TLS (sha256)'
        Write-LabLine ("  read the whole stick over TLS in {0:0.0} s" -f ([DateTime]::UtcNow - $started).TotalSeconds)
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
