# Desired state on a copy of the captured 6.1 tree: export the host as a YAML profile, read it, test it, and preview a
# sync with -WhatIf. Profiles are plain files, so they live in $TestDrive; the kernel tree never does.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Export-VirtHostConfig' {
    BeforeAll { $yaml = Export-VirtHostConfig -Root $root }

    It 'writes the profile to the pipeline as YAML text' {
        $yaml | Should -BeOfType ([string])
        $yaml | Should -Match '(?m)^usbip:$'
        $yaml | Should -Match 'serial: "LAB0001"'
        $yaml | Should -Match 'address: "0000:00:02\.0"'
        $yaml | Should -Match "(?m)^  pagesToScan: $(Get-Content "$root/sys/kernel/mm/ksm/pages_to_scan")$"
    }

    It 'writes the same profile to -Path' {
        Export-VirtHostConfig -Root $root -Path "$TestDrive/host.yaml"
        Get-Content -Raw "$TestDrive/host.yaml" | Should -Be $yaml
    }

    It 'writes no file with -WhatIf' {
        Export-VirtHostConfig -Root $root -Path "$TestDrive/preview.yaml" -WhatIf
        "$TestDrive/preview.yaml" | Should -Not -Exist
    }

    It 'declares String as its output type' {
        (Get-Command Export-VirtHostConfig).OutputType.Type | Should -Be ([string])
    }
}

Describe 'Get-VirtHostConfig' {
    BeforeAll {
        $hostProfile = "$TestDrive/host.yaml"
        Export-VirtHostConfig -Root $root -Path $hostProfile
    }

    It 'reads back what was exported' {
        $config = Get-VirtHostConfig -Root $root -Path $hostProfile
        $config.UsbIp.Exports[0].Match.Serial | Should -Be 'LAB0001'
        $config.PciPassthrough[0].Address | Should -Be '0000:00:02.0'
        $config.Ksm.PagesToScan | Should -Be (Get-KsmStats -Root $root).PagesToScan
    }

    It 'takes profile files from Get-ChildItem by FullName' {
        (Get-ChildItem $hostProfile | Get-VirtHostConfig -Root $root).Path | Should -Be $hostProfile
    }

    It 'refuses a profile that does not parse as VirtHostConfigInvalid, with the path as target and the line in the message' {
        Set-Content "$TestDrive/bad.yaml" "ksm:`n  pagesToScan: many"
        $failure = { Get-VirtHostConfig -Path "$TestDrive/bad.yaml" -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtHostConfigInvalid,VirtTools.Commands.Config.GetVirtHostConfigCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'InvalidData'
        $failure.TargetObject | Should -Be "$TestDrive/bad.yaml"
        $failure.Exception.Message | Should -Match 'bad\.yaml:2:.*pagesToScan'
    }

    It 'reports a missing profile as its own non-terminating error and reads the others' {
        $configs = Get-VirtHostConfig -Root $root -Path "$TestDrive/absent.yaml", $hostProfile -ErrorVariable failures -ErrorAction SilentlyContinue
        $configs.Path | Should -Be $hostProfile
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'VirtHostConfigNotFound,VirtTools.Commands.Config.GetVirtHostConfigCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be "$TestDrive/absent.yaml"
    }

    It 'declares VirtHostConfig as its output type, and writes one' {
        (Get-Command Get-VirtHostConfig).OutputType.Type | Should -Be ([VirtTools.Config.VirtHostConfig])
        Get-VirtHostConfig -Root $root -Path $hostProfile | Should -BeOfType ([VirtTools.Config.VirtHostConfig])
    }

    It 'shows the default table with its column headers' {
        Get-VirtHostConfig -Root $root -Path $hostProfile | Out-String -Width 200 |
            Should -Match '(?m)^Path\s+Exports\s+Attachments\s+Passthrough\s+Ksm\s*$'
    }
}

Describe 'Test-VirtHostConfig' {
    BeforeAll {
        $hostProfile = "$TestDrive/host.yaml"
        Export-VirtHostConfig -Root $root -Path $hostProfile
    }

    It 'finds a fresh export in sync, item by item' {
        $drift = Test-VirtHostConfig -Root $root -Path $hostProfile
        $drift | Should -Not -BeNullOrEmpty
        $drift | Where-Object { -not $_.InSync } | Should -BeNullOrEmpty
    }

    It 'finds the one key that was changed, with the value the kernel has' {
        (Get-Content -Raw $hostProfile).Replace('pagesToScan: 100', 'pagesToScan: 400') | Set-Content "$TestDrive/changed.yaml"
        $drift = Test-VirtHostConfig -Root $root -Path "$TestDrive/changed.yaml" | Where-Object { -not $_.InSync }
        $drift.Item | Should -Be 'ksm.pagesToScan'
        $drift.Desired | Should -Be '400'
        $drift.Actual | Should -Be (Get-Content "$root/sys/kernel/mm/ksm/pages_to_scan")
    }

    It 'declares VirtHostDrift as its output type, and writes them' {
        (Get-Command Test-VirtHostConfig).OutputType.Type | Should -Be ([VirtTools.Config.VirtHostDrift])
        Test-VirtHostConfig -Root $root -Path $hostProfile | Should -BeOfType ([VirtTools.Config.VirtHostDrift])
    }

    It 'shows the default table with its column headers' {
        Test-VirtHostConfig -Root $root -Path $hostProfile | Out-String -Width 200 |
            Should -Match '(?m)^Area\s+Item\s+Desired\s+Actual\s+InSync\s+Outcome\s*$'
    }
}

Describe 'Sync-VirtHostConfig -WhatIf' {
    BeforeAll {
        Export-VirtHostConfig -Root $root -Path "$TestDrive/host.yaml"
        (Get-Content -Raw "$TestDrive/host.yaml").Replace('pagesToScan: 100', 'pagesToScan: 400').Replace('sleepMilliseconds: 20', 'sleepMilliseconds: 50') |
            Set-Content "$TestDrive/changed.yaml"
        $before = Get-TreeState $root
        $results = Sync-VirtHostConfig -Root $root -Path "$TestDrive/changed.yaml" -WhatIf
        $after = Get-TreeState $root
    }

    It 'changes nothing under the root' {
        Compare-Object $before $after | Should -BeNullOrEmpty
    }

    It 'reports the drifting items as Skipped and the others as Unchanged' {
        # ForEach-Object, not .Item: member enumeration would find the array's own Item indexer first.
        $results | Where-Object Outcome -eq 'Skipped' | ForEach-Object Item | Sort-Object | Should -Be 'ksm.pagesToScan', 'ksm.sleepMilliseconds'
        $results | Where-Object { $_.Outcome -notin 'Skipped', 'Unchanged' } | Should -BeNullOrEmpty
    }

    It 'declares VirtHostDrift as its output type, and writes them' {
        (Get-Command Sync-VirtHostConfig).OutputType.Type | Should -Be ([VirtTools.Config.VirtHostDrift])
        $results | Should -BeOfType ([VirtTools.Config.VirtHostDrift])
    }
}

Describe 'usbip.server.claimPorts' {
    BeforeAll {
        $exported = "$TestDrive/claim-base.yaml"
        Export-VirtHostConfig -Root $root -Path $exported
        # The exported profile with a server section that reserves two ports for sharing.
        $claiming = "$TestDrive/claiming.yaml"
        ((Get-Content -Raw $exported) + "`n") -replace '(?m)^usbip:\r?\n', "usbip:`n  server: { tcpPort: 3240, claimPorts: [`"1-2`", `"2-3`"] }`n" |
            Set-Content $claiming
    }

    It 'reads the reserved ports' {
        (Get-VirtHostConfig -Root $root -Path $claiming).UsbIp.Server.ClaimPorts | Should -Be '1-2', '2-3'
    }

    It 'leaves a profile that reserves ports in sync with the host, and a -WhatIf sync changes nothing for them' {
        Test-VirtHostConfig -Root $root -Path $claiming | Where-Object { -not $_.InSync } | Should -BeNullOrEmpty
        Sync-VirtHostConfig -Root $root -Path $claiming -WhatIf | Where-Object { $_.Item -match 'claim' } | Should -BeNullOrEmpty
    }

    It 'refuses a root hub as a claimed port, with its position' {
        $bad = "$TestDrive/claim-root-hub.yaml"
        Set-Content $bad "usbip:`n  server:`n    claimPorts: [usb1]"
        $failure = { Get-VirtHostConfig -Path $bad -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'VirtHostConfigInvalid,*'
        $failure.Exception.Message | Should -Match "claim-root-hub\.yaml:3:18: claimed port 'usb1' is not a device bus id"
    }
}

Describe 'usbip.deadPeerTimeout' {
    BeforeAll {
        $exported = "$TestDrive/dead-peer-base.yaml"
        Export-VirtHostConfig -Root $root -Path $exported
        # The exported profile, whose attachment and server now free what a vanished peer held after 30 s.
        $timed = "$TestDrive/dead-peer.yaml"
        ((Get-Content -Raw $exported) + "`n") -replace '(?m)^usbip:\r?\n', "usbip:`n  deadPeerTimeout: 30`n" | Set-Content $timed
    }

    It 'reads the timeout' {
        $read = Get-VirtHostConfig -Root $root -Path $timed
        $read.UsbIp.DeadPeerTimeout | Should -Be 30
        $read.UsbIp.DeadPeer.UserTimeout | Should -Be ([timespan]::FromSeconds(30))
    }

    It 'gives it to each attachment' {
        $attaching = "$TestDrive/dead-peer-attachments.yaml"
        Set-Content $attaching "usbip:`n  deadPeerTimeout: 30`n  attachments:`n    - { computerName: usbhost.example, match: { busId: `"1-2`" } }`n    - { computerName: usbhost.example, match: { busId: `"1-3`" } }"
        $attachments = (Get-VirtHostConfig -Path $attaching).UsbIp.Attachments
        $attachments.Count | Should -Be 2
        $attachments | ForEach-Object { $_.DeadPeer.UserTimeout | Should -Be ([timespan]::FromSeconds(30)) }
    }

    It 'leaves the profile in sync with the host, and a -WhatIf sync changes nothing for it' {
        Test-VirtHostConfig -Root $root -Path $timed | Where-Object { -not $_.InSync } | Should -BeNullOrEmpty
        Sync-VirtHostConfig -Root $root -Path $timed -WhatIf | Where-Object { $_.Outcome -ne 'Unchanged' } | Should -BeNullOrEmpty
    }

    It 'is left out of a profile that does not set it' {
        (Get-VirtHostConfig -Root $root -Path $exported).UsbIp.DeadPeerTimeout | Should -BeNullOrEmpty
    }

    It 'refuses a timeout out of range, with its position' {
        $bad = "$TestDrive/dead-peer-short.yaml"
        Set-Content $bad "usbip:`n  deadPeerTimeout: 4"
        $failure = { Get-VirtHostConfig -Path $bad -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'VirtHostConfigInvalid,*'
        $failure.Exception.Message | Should -Match 'dead-peer-short\.yaml:2:20: usbip\.deadPeerTimeout \(seconds\) is 4; it must be between 5 and 43200'
    }
}
