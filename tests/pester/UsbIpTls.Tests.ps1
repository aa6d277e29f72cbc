# TLS on the USB/IP port, on loopback only: certificates made here (a CA, a server and a client it signed, and an
# unrelated CA), a server in this session serving a copy of the captured tree with the stick available, and the
# client cmdlets' TLS parameters against it. Imports are shown with -WhatIf only: this machine's vhci_hcd is not touched.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    Set-Content "$root/sys/bus/usb/devices/2-3/usbip_status" 1

    function New-TestCertificate([string] $Name, $Issuer, [string] $Purpose, [string] $Folder) {
        $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$Name", $key, 'SHA256')
        $extensions = $request.CertificateExtensions
        $extensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new(-not $Issuer, $false, 0, $true))
        $now = [DateTimeOffset]::UtcNow
        if (-not $Issuer) {
            $extensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new('KeyCertSign, CrlSign', $true))
            $certificate = $request.CreateSelfSigned($now.AddHours(-1), $now.AddDays(1))
        }
        else {
            $usage = [System.Security.Cryptography.OidCollection]::new()
            $usage.Add([System.Security.Cryptography.Oid]::new($Purpose)) | Out-Null
            $extensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usage, $false))
            $names = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
            $names.AddDnsName('localhost')
            $names.AddIpAddress([ipaddress] '127.0.0.1')
            $extensions.Add($names.Build())
            $serial = [byte[]] (1..8 | ForEach-Object { Get-Random -Maximum 256 })
            $issued = $request.Create($Issuer, $now.AddMinutes(-10), $now.AddHours(20), $serial)
            $certificate = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($issued, $key)
        }
        Set-Content "$Folder/$Name.crt" $certificate.ExportCertificatePem()
        Set-Content "$Folder/$Name.key" $key.ExportPkcs8PrivateKeyPem()
        $certificate
    }

    $folder = "$TestDrive/tls"
    New-Item -ItemType Directory $folder | Out-Null
    $ca = New-TestCertificate 'test-ca' $null '' $folder
    $serverCertificate = New-TestCertificate 'server' $ca '1.3.6.1.5.5.7.3.1' $folder
    New-TestCertificate 'desk' $ca '1.3.6.1.5.5.7.3.2' $folder | Out-Null
    New-TestCertificate 'neighbour' $ca '1.3.6.1.5.5.7.3.2' $folder | Out-Null
    $fingerprint = 'sha256:' + [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($serverCertificate.RawData))
    $client = @{ UseTls = $true; CertificatePath = "$folder/desk.crt"; KeyPath = "$folder/desk.key"; ServerCaPath = "$folder/test-ca.crt" }
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Start-UsbIpServer -CertificatePath -KeyPath -ClientCaPath' {
    BeforeAll {
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/server.key" -ClientCaPath "$folder/test-ca.crt"
    }
    AfterAll { $server | Stop-UsbIpServer }

    It 'serves TLS and plain USB/IP on the one port' {
        $server.Tls | Should -BeTrue
        $server.RequireTls | Should -BeFalse
        (Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort @client).BusId | Should -Be '2-3'
        (Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort).BusId | Should -Be '2-3'
    }

    It 'trusts a server pinned by -ServerFingerprint, written as openssl prints it' {
        $pinned = ($fingerprint.Substring(7) -split '(..)' | Where-Object { $_ }) -join ':'
        $devices = Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -CertificatePath "$folder/desk.crt" -KeyPath "$folder/desk.key" -ServerFingerprint "sha256:$pinned"
        $devices.BusId | Should -Be '2-3'
    }

    It 'refuses a client without a certificate: UsbIpTlsHandshakeFailed, counted by the server' {
        $refused = $server.TlsRefused
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -UseTls -ServerCaPath "$folder/test-ca.crt" -ErrorVariable failures -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpTlsHandshakeFailed,VirtTools.Commands.UsbIp.GetUsbIpDeviceCommand'
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ($server.TlsRefused -eq $refused -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $server.TlsRefused | Should -Be ($refused + 1)
    }

    It 'says UsbIpTlsServerNotTrusted for a pin that does not match, and sends nothing' {
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -ServerFingerprint ('sha256:' + '0' * 64) -ErrorVariable failures -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpTlsServerNotTrusted,VirtTools.Commands.UsbIp.GetUsbIpDeviceCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'pipes into Connect-UsbIpDevice -UseTls -WhatIf, which neither contacts the server nor attaches anything' {
        $devices = Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort @client
        $seen = $server.Connections
        $before = Get-TreeState $root
        $devices | Connect-UsbIpDevice -Root $root @client -WhatIf | Should -BeNullOrEmpty
        $server.Connections | Should -Be $seen
        $server.Imports | Should -Be 0
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }
}

Describe 'Start-UsbIpServer -Grant, as virttools usbipd --grant IDENTITY=MATCH' {
    BeforeAll {
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/server.key" `
            -ClientCaPath "$folder/test-ca.crt" -RequireTls -Grant 'desk=2-3'
        $neighbour = @{ UseTls = $true; CertificatePath = "$folder/neighbour.crt"; KeyPath = "$folder/neighbour.key"; ServerCaPath = "$folder/test-ca.crt" }
    }
    AfterAll { $server | Stop-UsbIpServer }

    It 'lists the granted device to the client the grant names' {
        (Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort @client).BusId | Should -Be '2-3'
    }

    It 'lists nothing to a client of the same CA without a grant' {
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort @neighbour | Should -BeNullOrEmpty
    }
}

Describe 'TLS parameter refusals' {
    It 'Start-UsbIpServer -Grant that is not IDENTITY=MATCH is UsbIpGrantInvalid' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/server.key" -ClientCaPath "$folder/test-ca.crt" -Grant 'desk' } |
            Should -Throw -ErrorId 'UsbIpGrantInvalid,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer -Grant without -ClientCaPath is UsbIpGrantInvalid: no client certificate, no identity' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/server.key" -Grant 'desk=*' } |
            Should -Throw -ErrorId 'UsbIpGrantInvalid,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer -ClaimPort that names no hub port is UsbNotAPort' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -ClaimPort 'usb1' } |
            Should -Throw -ErrorId 'UsbNotAPort,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer -ClaimPort takes at most 16 ports, as usbip-host shares no more' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -ClaimPort (1..17 | ForEach-Object { "1-$_" }) } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer -RequireTls without a certificate is UsbIpTlsRequired' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -RequireTls } |
            Should -Throw -ErrorId 'UsbIpTlsRequired,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer with a key that is not the certificate''s is UsbIpTlsCertificateInvalid' {
        { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/desk.key" } |
            Should -Throw -ErrorId 'UsbIpTlsCertificateInvalid,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
    }

    It 'Start-UsbIpServer -WhatIf with TLS starts nothing' {
        Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -CertificatePath "$folder/server.crt" -KeyPath "$folder/server.key" -RequireTls -WhatIf |
            Should -BeNullOrEmpty
    }

    It 'Get-UsbIpDevice refuses a malformed -ServerFingerprint before connecting: UsbIpTlsInvalidFingerprint' {
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort 9 -ServerFingerprint 'md5:00' -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpTlsInvalidFingerprint,VirtTools.Commands.UsbIp.GetUsbIpDeviceCommand'
    }

    It 'Connect-UsbIpDevice -CertificatePath without -KeyPath is UsbIpTlsRequired' {
        Connect-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort 9 -BusId 1-1 -CertificatePath "$folder/desk.crt" -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpTlsRequired,VirtTools.Commands.UsbIp.ConnectUsbIpDeviceCommand'
    }
}

Describe 'TLS and grants in a host profile, through Get-, Test- and Sync-VirtHostConfig' {
    BeforeAll {
        $tlsProfile = "$TestDrive/tls-host.yaml"
        Set-Content $tlsProfile @"
usbip:
  server:
    address: ["127.0.0.1"]
    tls: { certificate: "$folder/server.crt", key: "$folder/server.key", clientCa: "$folder/test-ca.crt", require: true }
    grants:
      - client: desk
        devices: ["46f4:0001", "2-3"]
  attachments:
    - computerName: 127.0.0.1
      match: { busId: 1-9 }
      reconnect: true
      tls: { certificate: "$folder/desk.crt", key: "$folder/desk.key", serverCa: "$folder/test-ca.crt" }
"@
    }

    It 'reads the server TLS settings, the grants and an attachment''s TLS settings back as written' {
        $config = Get-VirtHostConfig -Root $root -Path $tlsProfile
        $config.UsbIp.Server.Tls.ClientCa | Should -Be "$folder/test-ca.crt"
        $config.UsbIp.Server.Tls.Require | Should -BeTrue
        "$($config.UsbIp.Server.Grants[0])" | Should -Be 'desk=46f4:0001,2-3'
        $config.UsbIp.Attachments[0].Tls.CertificatePath | Should -Be "$folder/desk.crt"
        $config.UsbIp.Attachments[0].Tls.ServerCaPath | Should -Be "$folder/test-ca.crt"
    }

    It 'is accepted by Test-VirtHostConfig, which reports the TLS attachment as an item' {
        $drift = Test-VirtHostConfig -Root $root -Path $tlsProfile
        ($drift | Where-Object Area -eq 'UsbIpAttachment').Item | Should -Be '127.0.0.1:3240 busId 1-9'
    }

    It 'is previewed by Sync-VirtHostConfig -WhatIf without a change to the tree' {
        $before = Get-TreeState $root
        Sync-VirtHostConfig -Root $root -Path $tlsProfile -WhatIf | Out-Null
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'names the profile key, not a cmdlet parameter, when an attachment''s tls cannot work' {
        Set-Content "$TestDrive/half.yaml" "usbip:`n  attachments:`n    - { computerName: s, match: { busId: 1-1 }, tls: { certificate: `"$folder/desk.crt`" } }"
        $failure = { Test-VirtHostConfig -Root $root -Path "$TestDrive/half.yaml" -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtHostConfigInvalid,VirtTools.Commands.Config.TestVirtHostConfigCommand' -PassThru
        $failure.Exception.Message | Should -Match 'half\.yaml:3:.*TLS \(tls\.certificate\) needs a certificate and its key'
        $failure.Exception.Message | Should -Not -Match '-CertificatePath'
    }

    It 'refuses grants without a client CA, naming usbip.server.grants' {
        (Get-Content -Raw $tlsProfile).Replace(", clientCa: `"$folder/test-ca.crt`"", '') | Set-Content "$TestDrive/no-ca.yaml"
        { Test-VirtHostConfig -Root $root -Path "$TestDrive/no-ca.yaml" -ErrorAction Stop } |
            Should -Throw -ExpectedMessage '*usbip.server.grants need usbip.server.tls with clientCa*'
    }
}
