# Objects that cross a remoting boundary: they arrive as property bags with "Deserialized.VirtTools.*" type names and
# enums flattened. They must still render the module's tables with names, and pipe by property name into the local
# cmdlets. First in-process through PSSerializer (both depths remoting uses), then over real SSH remoting to a pwsh on
# this machine, through an sshd started on a loopback port for this file alone.

BeforeDiscovery {
    # Every reader whose table view a remote admin sees; each line runs with -Root appended.
    $script:Readers = @(
        @{ Command = 'Get-UsbDevice -IncludeHub' }, @{ Command = 'Get-UsbIpExport' }, @{ Command = 'Get-UsbIpPort -InUse' }, @{ Command = 'Get-UsbIpPort' }
        @{ Command = 'Get-PciDevice' }, @{ Command = 'Get-PciIrqShare' }, @{ Command = 'Get-IommuGroup' }
        @{ Command = 'Get-KsmStats' }, @{ Command = 'Get-VirtHost' }, @{ Command = 'Test-VirtHost' }
    )
}

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $script:Root = New-FixtureCopy

    # The object as a remote session hands it over: serialized at $Depth (remoting uses 1; a type that asks for
    # more, or Export-Clixml, goes deeper) and rebuilt here without its .NET type.
    function ConvertTo-Deserialized($InputObject, [int] $Depth) {
        $xml = [System.Management.Automation.PSSerializer]::Serialize($InputObject, $Depth)
        [System.Management.Automation.PSSerializer]::Deserialize($xml)
    }
    function Format-AsTable { param([Parameter(ValueFromPipeline)] $InputObject) end { $input | Format-Table | Out-String -Width 200 } }
}

AfterAll {
    Remove-FixtureCopy $script:Root
}

Describe 'Deserialized objects (PSSerializer round trip, depth <Depth>)' -ForEach @(@{ Depth = 1 }, @{ Depth = 2 }) {
    It '<Command> renders the same table as the live objects' -ForEach $Readers {
        $live = @(Invoke-Expression "$Command -Root `$Root")
        $live.Count | Should -BeGreaterThan 0
        $arrived = ConvertTo-Deserialized $live $Depth
        $arrived[0].pstypenames[0] | Should -BeLike 'Deserialized.VirtTools.*'
        $arrived | Format-AsTable | Should -Be ($live | Format-AsTable)
    }

    It 'an exported device shows its usbip status by name' {
        $exported = Get-UsbDevice -Root $Root | Where-Object IsExported
        $exported | Should -Not -BeNullOrEmpty
        $text = ConvertTo-Deserialized $exported $Depth | Format-AsTable
        $text | Should -Match "Exported \($($exported[0].UsbIpStatus)\)"
        $text | Should -Not -Match 'Exported \(\d'
    }

    It 'a function with MSI-X shows the kind by name' {
        $msi = Get-PciDevice -Root $Root | Where-Object MsiVectors -gt 0
        $msi | Should -Not -BeNullOrEmpty
        ConvertTo-Deserialized $msi $Depth | Format-AsTable | Should -Match "$($msi[0].MsiVectors) $($msi[0].MsiKind)"
    }

    It 'Get-PciDevice output pipes into Get-IommuGroup by Address' {
        $devices = Get-PciDevice -Root $Root
        $expected = $devices | Get-IommuGroup -Root $Root | Format-AsTable
        ConvertTo-Deserialized $devices $Depth | Get-IommuGroup -Root $Root | Format-AsTable | Should -Be $expected
    }

    It 'Get-PciDevice output pipes into Get-PciIrqShare by Address' {
        $devices = Get-PciDevice -Root $Root
        $expected = $devices | Get-PciIrqShare -Root $Root | Format-AsTable
        ConvertTo-Deserialized $devices $Depth | Get-PciIrqShare -Root $Root | Format-AsTable | Should -Be $expected
    }

    It 'identities arrive as their text: BusId, ParentBusId and UsbId' {
        $stick = ConvertTo-Deserialized (Get-UsbDevice -Root $Root 2-3) $Depth
        ($stick.BusId, $stick.ParentBusId, $stick.UsbId) | Should -Be @('2-3', 'usb2', '46f4:0001')
        $stick.BusId | Should -BeOfType ([string])
    }

    It 'Get-UsbIpPort output pipes into Get-UsbIpPort by Port' {
        $ports = Get-UsbIpPort -Root $Root -InUse
        ConvertTo-Deserialized $ports $Depth | Get-UsbIpPort -Root $Root | Format-AsTable | Should -Be ($ports | Format-AsTable)
    }

    It 'Get-UsbDevice output pipes into Export-UsbIpDevice by BusId' {
        $device = Get-UsbDevice -Root $Root | Where-Object { -not $_.IsExported } | Select-Object -First 1
        $arrived = ConvertTo-Deserialized $device $Depth
        Get-WhatIfText { $arrived | Export-UsbIpDevice -Root $Root -WhatIf -ErrorAction Stop } |
            Should -Match "What if: Export $([regex]::Escape($device.BusId)) "
    }

    It 'Get-UsbIpExport output pipes into Remove-UsbIpExport by BusId' {
        $export = Get-UsbIpExport -Root $Root
        $arrived = ConvertTo-Deserialized $export $Depth
        Get-WhatIfText { $arrived | Remove-UsbIpExport -Root $Root -WhatIf -ErrorAction Stop } |
            Should -Match "What if: Stop exporting $([regex]::Escape($export[0].BusId))"
    }

    It 'Get-UsbIpPort output pipes into Disconnect-UsbIpDevice by Port' {
        $port = Get-UsbIpPort -Root $Root -InUse
        $arrived = ConvertTo-Deserialized $port $Depth
        Get-WhatIfText { $arrived | Disconnect-UsbIpDevice -Root $Root -WhatIf -ErrorAction Stop } |
            Should -Match "port $($port[0].Port)"
    }

    It 'Get-IommuGroup output pipes into Set-PciPassthrough by Address' {
        $group = Get-IommuGroup -Root $Root | Where-Object { $_.Address.Count -eq 1 } |
            Where-Object { $device = Get-PciDevice -Root $Root -Address $_.Address; $device.Driver -ne 'vfio-pci' -and $device.ClassCode -notlike '0x06*' } |
            Select-Object -First 1   # an endpoint: bridges (class 06) are never passed through
        $group | Should -Not -BeNullOrEmpty
        $arrived = ConvertTo-Deserialized $group $Depth
        Get-WhatIfText { $arrived | Set-PciPassthrough -Root $Root -IncludeIommuGroup -WhatIf -ErrorAction Stop } |
            Should -Match ([regex]::Escape($group.Address[0]))
    }

    It 'Get-PciDevice output pipes into Remove-PciPassthrough by Address' {
        $bound = Get-PciDevice -Root $Root -Driver vfio-pci
        $bound | Should -Not -BeNullOrEmpty
        $arrived = ConvertTo-Deserialized $bound $Depth
        Get-WhatIfText { $arrived | Remove-PciPassthrough -Root $Root -WhatIf -ErrorAction Stop } |
            Should -Match "Give $([regex]::Escape($bound[0].Address)) back"
    }
}

Describe 'Over SSH remoting' {
    BeforeAll {
        $sshdPath = '/usr/sbin/sshd'
        if (-not (Test-Path $sshdPath)) {
            throw "SSH remoting cannot be tested: $sshdPath is missing. Install the Debian package openssh-server (tests/run does)."
        }
        # The far side's fixture is a copy of its own, so a test can tell its Root from the local one.
        $script:RemoteRoot = New-FixtureCopy
        $script:SshDir = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "virttools-sshd-$([guid]::NewGuid())")).FullName
        ssh-keygen -q -t ed25519 -N '' -f "$SshDir/host_key" | Out-Null
        ssh-keygen -q -t ed25519 -N '' -f "$SshDir/client_key" | Out-Null
        Copy-Item "$SshDir/client_key.pub" "$SshDir/authorized_keys"

        # The pwsh running this test, started the same way, serves the powershell subsystem.
        $wrapper = "$SshDir/pwsh-subsystem"
        Set-Content $wrapper "#!/bin/sh`nexec '$([Environment]::ProcessPath)' '$PSHOME/pwsh.dll' `"`$@`"`n"
        chmod +x $wrapper

        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $script:SshPort = $listener.LocalEndpoint.Port; $listener.Stop()
        Set-Content "$SshDir/sshd_config" @"
Port $SshPort
ListenAddress 127.0.0.1
HostKey $SshDir/host_key
PidFile $SshDir/sshd.pid
AuthorizedKeysFile $SshDir/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
Subsystem powershell $wrapper -sshs -NoLogo
"@
        # sshd refuses to start without its privilege separation directory (Debian makes it at boot).
        if (-not (Test-Path /run/sshd)) { New-Item -ItemType Directory /run/sshd | Out-Null }
        $script:SshdProcess = Start-Process $sshdPath -ArgumentList '-D', '-f', "$SshDir/sshd_config", '-E', "$SshDir/sshd.log" -PassThru

        # Ready when it accepts a connection; bounded, and a dead sshd says why.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($true) {
            if ($SshdProcess.HasExited) { throw "sshd exited ($($SshdProcess.ExitCode)): $(Get-Content -Raw "$SshDir/sshd.log" -ErrorAction Ignore)" }
            $client = [System.Net.Sockets.TcpClient]::new()
            try { $client.Connect('127.0.0.1', $SshPort); break } catch { } finally { $client.Dispose() }
            if ([DateTime]::UtcNow -gt $deadline) { throw "sshd did not listen on 127.0.0.1:$SshPort within 60 s" }
            Start-Sleep -Milliseconds 200
        }

        $script:Session = New-PSSession -HostName 127.0.0.1 -Port $SshPort -UserName ([Environment]::UserName) `
            -KeyFilePath "$SshDir/client_key" -ErrorAction Stop `
            -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; BatchMode = 'yes'; LogLevel = 'ERROR' }
        Invoke-Command -Session $Session { param($Module) Import-Module $Module } -ArgumentList $ModuleManifest
    }

    AfterAll {
        if ($Session) { Remove-PSSession $Session }
        if ($SshdProcess -and -not $SshdProcess.HasExited) { $SshdProcess.Kill(); $SshdProcess.WaitForExit(10000) | Out-Null }
        if ($SshDir) { Remove-Item -Recurse -Force $SshDir }
        Remove-FixtureCopy $RemoteRoot
    }

    It 'the objects arrive from another process as deserialized VirtTools objects' {
        $remote = Invoke-Command -Session $Session { param($R) Get-PciDevice -Root $R } -ArgumentList $RemoteRoot
        $remote[0].pstypenames[0] | Should -Be 'Deserialized.VirtTools.Pci.PciDevice'
        $remote[0].PSComputerName | Should -Be '127.0.0.1'
        $remote[0].Root | Should -Be $RemoteRoot
    }

    It '<Command> renders the same table as it does on the host itself' -ForEach $Readers {
        $line = [scriptblock]::Create("$Command -Root '$RemoteRoot'")
        # -HideComputerName: otherwise the table gains the PSComputerName column PowerShell adds to remote output.
        $remote = Invoke-Command -Session $Session -ScriptBlock $line -HideComputerName
        $remote | Format-AsTable | Should -Be (& $line | Format-AsTable)
    }

    It "the README's many-hosts table shows each host beside its functions" {
        $remote = Invoke-Command -Session $Session { param($R) Get-PciDevice -Root $R -Driver vfio-pci } -ArgumentList $RemoteRoot
        $remote | Should -Not -BeNullOrEmpty
        $text = $remote | Format-Table PSComputerName, Address, Driver | Out-String
        foreach ($device in Get-PciDevice -Root $RemoteRoot -Driver vfio-pci) {
            $text | Should -Match "127\.0\.0\.1\s+$([regex]::Escape($device.Address))\s+vfio-pci"
        }
    }

    It 'the USB device table names the usbip status of an exported device' {
        $remote = Invoke-Command -Session $Session { param($R) Get-UsbDevice -Root $R } -ArgumentList $RemoteRoot
        $status = (Get-UsbDevice -Root $RemoteRoot | Where-Object IsExported)[0].UsbIpStatus
        $remote | Format-AsTable | Should -Match "Exported \($status\)"
    }

    It 'remote Get-UsbIpExport pipes into local Remove-UsbIpExport by BusId' {
        $remote = Invoke-Command -Session $Session { param($R) Get-UsbIpExport -Root $R } -ArgumentList $RemoteRoot
        Get-WhatIfText { $remote | Remove-UsbIpExport -Root $Root -WhatIf -ErrorAction Stop } |
            Should -Match "What if: Stop exporting $([regex]::Escape($remote[0].BusId))"
    }

    It 'remote Get-PciDevice pipes into local Get-IommuGroup by Address' {
        $remote = Invoke-Command -Session $Session { param($R) Get-PciDevice -Root $R -Driver vfio-pci } -ArgumentList $RemoteRoot
        $remote | Get-IommuGroup -Root $Root | Format-AsTable |
            Should -Be (Get-IommuGroup -Root $Root -Address ($remote | ForEach-Object Address) | Format-AsTable)
    }

    It 'remote Get-UsbIpPort -InUse pipes into local Disconnect-UsbIpDevice by Port' {
        $remote = Invoke-Command -Session $Session { param($R) Get-UsbIpPort -Root $R -InUse } -ArgumentList $RemoteRoot
        Get-WhatIfText { $remote | Disconnect-UsbIpDevice -Root $Root -WhatIf -ErrorAction Stop } | Should -Match "port $($remote[0].Port)"
    }
}
